"""Accounts (local and remote actors), the logins of local ones, and their OIDC identities."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import SnowflakeModel
from models.posts import Visibility

# The actor types of local users (Service: a bot); the instance actor is an Application.
USER_ACTOR_TYPES = ("Person", "Service")


class Account(SnowflakeModel):
    """An actor: local when ``domain`` is NULL, remote otherwise."""

    username = fields.CharField(max_length=255)
    domain = fields.CharField(max_length=255, null=True)
    # Lower-cased "user" (local) or "user@host" (remote): one account per acct, whatever the case.
    acct = fields.CharField(max_length=512, unique=True)
    display_name = fields.CharField(max_length=255, default="", db_default="")
    note = fields.TextField(default="")  # the bio as HTML
    note_source = fields.TextField(default="")  # the bio as typed (local accounts)
    uri = fields.CharField(max_length=1024, unique=True)  # ActivityPub actor id
    url = fields.CharField(max_length=1024, default="", db_default="")  # profile page
    inbox_uri = fields.CharField(max_length=1024, default="", db_default="")
    shared_inbox_uri = fields.CharField(max_length=1024, default="", db_default="", db_index=True)
    outbox_uri = fields.CharField(max_length=1024, default="", db_default="")
    followers_uri = fields.CharField(max_length=1024, default="", db_default="")
    following_uri = fields.CharField(max_length=1024, default="", db_default="")
    featured_uri = fields.CharField(max_length=1024, default="", db_default="")
    # ActivityStreams actor type: Person, Service (bots), Application (the instance actor), Group.
    actor_type = fields.CharField(max_length=32, default="Person", db_default="Person")
    public_key_id = fields.CharField(max_length=1024, default="", db_default="", db_index=True)
    public_key = fields.TextField(default="")  # PEM
    # FEP-521a Multikeys the actor publishes for Object Integrity Proofs: {key id: multibase}.
    proof_keys = fields.JSONField(default=dict, db_default="{}")
    private_key = fields.TextField(null=True)  # PEM, local accounts only
    avatar_url = fields.CharField(max_length=1024, default="", db_default="")
    header_url = fields.CharField(max_length=1024, default="", db_default="")
    locked = fields.BooleanField(default=False, db_default=False)
    discoverable = fields.BooleanField(default=True, db_default=True)  # listed in search, directory
    # Mastodon's "indexable": the posts may be found by full-text search by anyone (False: only by
    # followers and the mentioned).
    indexable = fields.BooleanField(default=True, db_default=True)
    bot = fields.BooleanField(default=False, db_default=False)
    followers_count = fields.IntField(default=0, db_default=0)
    following_count = fields.IntField(default=0, db_default=0)
    posts_count = fields.IntField(default=0, db_default=0)
    last_post_at = fields.DatetimeField(null=True)
    moved_to_uri = fields.CharField(max_length=1024, null=True)  # a Move we received
    suspended_at = fields.DatetimeField(null=True)
    silenced_at = fields.DatetimeField(null=True)
    fetched_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "accounts"
        indexes = (("domain", "username"),)

    @property
    def is_local(self) -> bool:
        return self.domain is None

    @property
    def acct_display(self) -> str:
        """Mastodon's ``acct``: "user" for local accounts, "user@host" for remote ones."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


class Role(StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


class User(SnowflakeModel):
    """The login of a local account."""

    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="user", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=320, unique=True)  # stored lower-cased
    password_hash = fields.CharField(max_length=255, null=True)  # NULL: OIDC sign-in only
    role = fields.CharEnumField(Role, default=Role.USER, db_default=Role.USER.value, max_length=16)
    approved = fields.BooleanField(default=True, db_default=True)
    locale = fields.CharField(max_length=16, default="en", db_default="en")
    # Posting defaults a client reads from CredentialAccount.source and we apply when a post
    # does not say: Mastodon's "privacy", "sensitive" and "language".
    default_visibility = fields.CharEnumField(
        Visibility, default=Visibility.PUBLIC, db_default=Visibility.PUBLIC.value, max_length=16
    )
    default_sensitive = fields.BooleanField(default=False, db_default=False)
    default_language = fields.CharField(max_length=16, null=True)
    registration_reason = fields.TextField(default="")
    last_sign_in_at = fields.DatetimeField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    # The address a sign-up came from, for moderators (Mastodon's Admin::Account ``ip``).
    sign_up_ip = fields.CharField(max_length=45, null=True)

    class Meta:
        table = "users"


class Identity(SnowflakeModel):
    """A third-party OpenID Connect login: (issuer, subject) -> user."""

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="identities", on_delete=fields.CASCADE
    )
    issuer = fields.CharField(max_length=512)
    subject = fields.CharField(max_length=255)

    class Meta:
        table = "identities"
        unique_together = (("issuer", "subject"),)
