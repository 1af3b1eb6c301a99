"""The federation outbox and inbox as rows: the row is the truth, arq only schedules it."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import SnowflakeModel


class InboxState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    IGNORED = "ignored"


class InboxItem(SnowflakeModel):
    """An accepted incoming activity, stored before we answer 202."""

    activity_id = fields.CharField(max_length=1024, unique=True)
    activity_type = fields.CharField(max_length=64)
    actor_uri = fields.CharField(max_length=1024)
    key_id = fields.CharField(max_length=1024, default="", db_default="")  # the key that signed it
    # An embedded FEP-8b32 proof: "verified", "invalid", "unknown-key"; "" when there is none.
    proof = fields.CharField(max_length=16, default="", db_default="")
    payload = fields.JSONField()
    state = fields.CharEnumField(
        InboxState, default=InboxState.PENDING, db_default=InboxState.PENDING.value, max_length=16
    )
    attempts = fields.IntField(default=0, db_default=0)
    last_error = fields.TextField(default="")
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_items"
        indexes = (("state", "id"),)


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # a final 4xx, or retries exhausted


class Delivery(SnowflakeModel):
    """One outgoing (activity, inbox) pair."""

    activity_id = fields.CharField(max_length=1024)
    inbox = fields.CharField(max_length=1024)
    domain = fields.CharField(max_length=255, default="", db_default="")  # the inbox's host
    payload = fields.JSONField()
    signer: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="deliveries", on_delete=fields.CASCADE, db_index=True
    )
    state = fields.CharEnumField(
        DeliveryState,
        default=DeliveryState.PENDING,
        db_default=DeliveryState.PENDING.value,
        max_length=16,
    )
    attempts = fields.IntField(default=0, db_default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    # Claimed by an attempt until then: two jobs for one row (the sweep, a retry, a worker
    # that died mid-way) never POST it at the same time.
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    last_status = fields.IntField(null=True)  # the HTTP status of the last attempt, if any
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "deliveries"
        unique_together = (("activity_id", "inbox"),)
        # The sweep looks for pending rows that are due; a domain that recovers has its
        # waiting rows brought forward.
        indexes = (("state", "next_attempt_at"), ("domain", "state"))


class Domain(SnowflakeModel):
    """What we know of a remote host: moderation and delivery health."""

    domain = fields.CharField(max_length=255, unique=True)
    # A domain block (Mastodon's DomainBlock): ``blocked`` is severity "suspend", ``silenced``
    # "silence", neither with ``blocked_at`` set is "noop". ``blocked_at`` is also the time its
    # accounts were suspended or silenced at, so lifting it restores exactly those.
    blocked = fields.BooleanField(default=False, db_default=False)
    silenced = fields.BooleanField(default=False, db_default=False)
    blocked_at = fields.DatetimeField(null=True)
    reject_media = fields.BooleanField(default=False, db_default=False)
    reject_reports = fields.BooleanField(default=False, db_default=False)
    obfuscate = fields.BooleanField(default=False, db_default=False)
    note = fields.TextField(default="")  # the private comment, for moderators
    public_comment = fields.TextField(default="", db_default="")
    consecutive_failures = fields.IntField(default=0, db_default=0)
    unreachable_since = fields.DatetimeField(null=True)
    last_success_at = fields.DatetimeField(null=True)

    class Meta:
        table = "domains"


class Tombstone(SnowflakeModel):
    """An object or activity id that is gone: a deleted post, an undone like or follow.

    A Create, Announce or Like that arrives after the Delete or Undo of the same id (peers
    deliver in parallel, and retry) finds its tombstone and is dropped instead of resurrected.
    """

    uri = fields.CharField(max_length=1024, unique=True)

    class Meta:
        table = "tombstones"
