"""Flag: another server reports one of our accounts (and its posts) to our moderators.

Mastodon sends it from its instance actor, ``object`` naming the account and the posts. It
becomes a report like a local user's, unless an admin rejects reports from that domain.
"""

from __future__ import annotations

from models.federation import Domain
from services import reports
from services.inbound import DONE, IGNORED, Inbound


async def handle(inbound: Inbound) -> str:
    reporter = inbound.actor
    domain = (reporter.domain or "").lower()
    if await Domain.filter(domain=domain, reject_reports=True, blocked_at__isnull=False).exists():
        return IGNORED
    raw = inbound.activity.raw
    content = raw.get("content")
    made = await reports.receive_flag(
        reporter,
        inbound.activity_id,
        reports.flagged_ids(raw),
        content if isinstance(content, str) else "",
    )
    return DONE if made else IGNORED
