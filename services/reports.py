"""Reports: a user reports an account (and some of its posts) to this instance's moderators;
a report about a remote account may be forwarded to its server as a ``Flag``; a ``Flag`` from
another server becomes a report here. Every new report tells each moderator and admin
(``admin.report``). Moderators work the queue through services/report_queue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from activitypub import render
from models.accounts import Account
from models.admin import Report
from models.notifications import Notification, NotificationType
from models.posts import Post
from services import federate, roles
from services import instance as instance_service
from services.backends import Backends
from services.errors import NotFound, ValidationFailed
from services.remote.fetch import instance_actor

log = logging.getLogger(__name__)

MAX_COMMENT = 1000
MAX_POSTS = 100
CATEGORIES = ("spam", "legal", "violation", "other")


@dataclass(frozen=True)
class NewReport:
    account_id: int
    status_ids: Sequence[int] = field(default_factory=tuple)
    comment: str = ""
    forward: bool = False
    category: str | None = None
    rule_ids: Sequence[str] = field(default_factory=tuple)


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"Validation failed: {message}", {name: [{"error": "ERR_INVALID", "description": message}]}
    )


async def _category_and_rules(new: NewReport) -> tuple[str, list[str]]:
    """Mastodon's rules: rule_ids make it a "violation" and must name this instance's rules;
    without a category it is "other" (or "violation" when rules are given)."""
    rule_ids = [str(rule) for rule in dict.fromkeys(new.rule_ids)]
    category = new.category or ("violation" if rule_ids else "other")
    if category not in CATEGORIES:
        raise _invalid("category", f"category must be one of {', '.join(CATEGORIES)}")
    if rule_ids:
        known = {rule.id for rule in await instance_service.rules()}
        if category != "violation" or not set(rule_ids) <= known:
            raise _invalid("rule_ids", "rule_ids must name this instance's rules (violation)")
    return category, rule_ids


async def _reported_posts(target: Account, status_ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(status_ids))
    if len(wanted) > MAX_POSTS:
        raise _invalid("status_ids", f"at most {MAX_POSTS} posts per report")
    if not wanted:
        return []
    found = await Post.filter(id__in=wanted, author_id=target.id).values_list("id", flat=True)
    if len(found) != len(wanted):
        raise _invalid("status_ids", "the posts must be the reported account's own")
    return wanted


async def create_report(backends: Backends, reporter_id: int, new: NewReport) -> Report:
    """A user's report; forwarded as a Flag when asked and the account is remote."""
    if len(new.comment) > MAX_COMMENT:
        raise _invalid("comment", f"comment is too long (at most {MAX_COMMENT} characters)")
    target = await Account.filter(id=new.account_id, suspended_at__isnull=True).first()
    if target is None or target.actor_type == "Application":
        raise NotFound("Record not found")
    if target.id == reporter_id:
        raise _invalid("account_id", "you cannot report yourself")
    category, rule_ids = await _category_and_rules(new)
    post_ids = await _reported_posts(target, new.status_ids)
    forward = new.forward and not target.is_local
    delivery_ids: list[int] = []
    async with in_transaction():
        report = await Report.create(
            reporter_id=reporter_id, target_id=target.id, post_ids=post_ids,
            comment=new.comment, category=category, rule_ids=rule_ids, forwarded=forward,
        )  # fmt: skip
        if forward:
            delivery_ids = await _queue_flag(backends, report, target)
        await tell_staff(report)
    await federate.send(backends.queue, delivery_ids)
    return report


def report_uri(backends: Backends, report_id: int) -> str:
    return f"{backends.settings.base_url}/reports/{report_id}"


async def _queue_flag(backends: Backends, report: Report, target: Account) -> list[int]:
    """The Flag for the target's server, signed by the instance actor (Mastodon does not name
    the reporter to the other server), in the report's transaction."""
    actor = await instance_actor(backends.settings)
    uris = await Post.filter(id__in=list(report.post_ids)).values_list("uri", flat=True)
    activity = render.flag(
        report_uri(backends, report.id), actor.uri, [target.uri, *uris], report.comment
    )
    report.uri = activity["id"]
    await report.save(update_fields=["uri"])
    return await federate.queue(actor, activity, [federate.preferred_inbox(target)])


async def tell_staff(report: Report) -> None:
    """An ``admin.report`` for every moderator and admin but the reporter. Not filtered by
    blocks or mutes (Mastodon's admin notifications are not): moderators see every report."""
    staff = [a for a in await roles.staff_account_ids() if a != report.reporter_id]  # type: ignore[attr-defined]
    kind = NotificationType.ADMIN_REPORT
    await Notification.bulk_create(
        [
            Notification(
                recipient_id=account_id,
                type=kind,
                actor_id=report.reporter_id,  # type: ignore[attr-defined]
                report_id=report.id,
            )
            for account_id in staff
        ]
    )


# --- a Flag from another server -------------------------------------------------------------


def flagged_ids(raw: dict[str, object]) -> list[str]:
    """The ids a Flag names: ``object`` as one id, a list of ids, or embedded objects."""
    value = raw.get("object")
    items = value if isinstance(value, list) else [value]
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    return [item for item in ids if isinstance(item, str) and item]


async def receive_flag(
    reporter: Account, activity_id: str, objects: Sequence[str], content: str
) -> list[Report]:
    """One report per local account the Flag names, with the named posts of that account
    (Mastodon's ActivityPub::Activity::Flag). A Flag seen before is not filed twice."""
    if activity_id and await Report.filter(uri__startswith=activity_id).exists():
        return []
    targets = await Account.filter(uri__in=list(objects), domain__isnull=True,
                                   actor_type__not="Application")  # fmt: skip
    posts = await Post.filter(uri__in=list(objects), author__domain__isnull=True).values(
        "id", "author_id"
    )
    for post in posts:  # a Flag of posts alone still reports their author
        if post["author_id"] not in {t.id for t in targets}:
            targets.append(await Account.get(id=post["author_id"]))
    made = []
    async with in_transaction():
        for index, target in enumerate(targets):
            report = await Report.create(
                reporter_id=reporter.id, target_id=target.id, comment=content[:MAX_COMMENT],
                post_ids=[p["id"] for p in posts if p["author_id"] == target.id],
                uri=(activity_id if index == 0 else f"{activity_id}#{index}") or None,
            )  # fmt: skip
            await tell_staff(report)
            made.append(report)
    return made
