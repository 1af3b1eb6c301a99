"""Domain blocks, as Mastodon's admins know them: silence or suspend a whole remote server.

A block is a ``domains`` row with ``blocked_at`` set: ``blocked`` is severity "suspend" (inbox
403, no fetches, no deliveries, its accounts suspended and their follows with our accounts
severed), ``silenced`` is "silence" (its accounts silenced: out of public timelines and
search), neither is "noop" (only the media and report flags). Its accounts are marked with the
block's own ``blocked_at``, so lifting the block restores exactly those an admin did not also
act on one by one. Every change ends with ``domains.changed``: every web and worker process
drops its copy when it hears of it over pub/sub (services/domains).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from enum import StrEnum

from tortoise.timezone import now
from tortoise.transactions import in_transaction

from models.federation import Domain
from services import domain_block_effects as effects
from services import domains
from services.backends import Backends
from services.errors import NotFound, ValidationFailed
from services.paging import Page

MAX_COMMENT = 1000
# A host name (letters, digits, hyphens, dots; IDNA already applied) with an optional port.
_HOST = re.compile(r"^(?=.{1,253}(:\d{1,5})?$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*"
                   r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(:\d{1,5})?$")  # fmt: skip


class Severity(StrEnum):
    SILENCE = "silence"
    SUSPEND = "suspend"
    NOOP = "noop"


@dataclass(frozen=True)
class BlockSpec:
    """What an admin asks for; the fields of Mastodon's DomainBlock."""

    severity: Severity = Severity.SILENCE
    reject_media: bool = False
    reject_reports: bool = False
    private_comment: str = ""
    public_comment: str = ""
    obfuscate: bool = False


@dataclass(frozen=True)
class DomainBlock:
    id: int
    domain: str
    severity: Severity
    reject_media: bool
    reject_reports: bool
    private_comment: str
    public_comment: str
    obfuscate: bool
    created_at: object  # datetime

    @property
    def digest(self) -> str:
        """Mastodon's public digest: SHA-256 of the domain, so an obfuscated one can be checked."""
        return hashlib.sha256(self.domain.encode()).hexdigest()

    @property
    def public_domain(self) -> str:
        """The domain as the public list shows it: with ``obfuscate``, its middle starred out
        (Mastodon's DomainBlock#public_domain), dots kept."""
        if not self.obfuscate:
            return self.domain
        length = len(self.domain)
        keep = length // 4
        return "".join(
            "*" if keep < i < length - keep and char != "." else char
            for i, char in enumerate(self.domain)
        )

    @property
    def spec(self) -> BlockSpec:
        return BlockSpec(self.severity, self.reject_media, self.reject_reports,
                         self.private_comment, self.public_comment, self.obfuscate)  # fmt: skip


def _severity_of(row: Domain) -> Severity:
    if row.blocked:
        return Severity.SUSPEND
    return Severity.SILENCE if row.silenced else Severity.NOOP


def _view(row: Domain) -> DomainBlock:
    return DomainBlock(
        id=row.id,
        domain=row.domain,
        severity=_severity_of(row),
        reject_media=row.reject_media,
        reject_reports=row.reject_reports,
        private_comment=row.note,
        public_comment=row.public_comment,
        obfuscate=row.obfuscate,
        created_at=row.blocked_at,
    )


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"Validation failed: {field.capitalize()} {message}",
        {field: [{"error": "ERR_INVALID", "description": message}]},
    )


def normalise_domain(raw: str, own_domain: str) -> str:
    """``Social.Example``, ``https://social.example/``, ``bücher.example`` -> the host as our
    rows hold it (lower case, IDNA). 422 for anything that is not a remote host name."""
    text = raw.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text).split("/", 1)[0].rstrip(".")
    text = text.removeprefix("*.")
    try:
        text = text.encode("idna").decode("ascii") if text else text
    except UnicodeError:
        raise _invalid("domain", "is not a valid domain name") from None
    if not text or not _HOST.match(text):
        raise _invalid("domain", "is not a valid domain name")
    if text == own_domain.lower():
        raise _invalid("domain", "is this instance's own domain")
    return text


def _check(spec: BlockSpec) -> None:
    for field in ("private_comment", "public_comment"):
        if len(getattr(spec, field)) > MAX_COMMENT:
            raise _invalid(field, f"is too long (at most {MAX_COMMENT} characters)")


async def list_blocks() -> list[DomainBlock]:
    rows = await Domain.filter(blocked_at__isnull=False).order_by("-blocked_at", "-id")
    return [_view(row) for row in rows]


async def page_blocks(page: Page) -> list[DomainBlock]:
    """The admin API's list: newest block rows first, paged on their ids."""
    query = Domain.filter(blocked_at__isnull=False)
    if page.max_id is not None:
        query = query.filter(id__lt=page.max_id)
    if page.lower is not None:
        query = query.filter(id__gt=page.lower)
    rows = await query.order_by("id" if page.ascending else "-id").limit(page.limit)
    return sorted((_view(row) for row in rows), key=lambda item: item.id, reverse=True)


async def get_block(block_id: int) -> DomainBlock:
    if not 0 < block_id < 2**63:
        raise NotFound("Record not found")
    row = await Domain.filter(id=block_id, blocked_at__isnull=False).first()
    if row is None:
        raise NotFound("Record not found")
    return _view(row)


async def find_block(domain: str) -> DomainBlock | None:
    row = await Domain.filter(domain=domain.lower(), blocked_at__isnull=False).first()
    return _view(row) if row else None


class AlreadyBlocked(ValidationFailed):
    """Mastodon answers a second block of one domain with 422 and the existing block."""

    def __init__(self, existing: DomainBlock) -> None:
        super().__init__(f"A domain block for {existing.domain} already exists")
        self.existing = existing


async def block(
    backends: Backends, raw_domain: str, spec: BlockSpec, *, replace_existing: bool = False
) -> DomainBlock:
    """Block a domain; an existing block is AlreadyBlocked, or changed when ``replace_existing``
    (the command line's way: blocking again with another severity changes it)."""
    domain = normalise_domain(raw_domain, backends.settings.instance.domain)
    _check(spec)
    existing = await find_block(domain)
    if existing is not None:
        if not replace_existing:
            raise AlreadyBlocked(existing)
        return await update(backends, existing.id, spec)
    moment = now()
    async with in_transaction():
        row, _ = await Domain.get_or_create(domain=domain, defaults={"note": ""})
        await _store(row, spec, moment)
        severed = await effects.apply(domain, spec.severity.value, moment)
    await _after(backends, domain, severed)
    return _view(await Domain.get(id=row.id))


async def update(backends: Backends, block_id: int, spec: BlockSpec) -> DomainBlock:
    """Change a block (Mastodon's PUT): a new severity undoes the old one's effects first."""
    _check(spec)
    current = await get_block(block_id)
    async with in_transaction():
        row = await Domain.select_for_update().get(id=block_id)
        moment = row.blocked_at or now()
        severed = effects.Severed()
        if current.severity is not spec.severity:
            await effects.lift(row.domain, current.severity.value, moment)
            severed = await effects.apply(row.domain, spec.severity.value, moment)
        await _store(row, spec, moment)
    await _after(backends, row.domain, severed)
    return _view(await Domain.get(id=block_id))


async def unblock(backends: Backends, block_id: int) -> DomainBlock:
    """Lift a block: its accounts are unsuspended / unsilenced (the follows it severed stay
    gone, as on Mastodon); delivery health on the row is kept."""
    current = await get_block(block_id)
    async with in_transaction():
        row = await Domain.select_for_update().get(id=block_id)
        if row.blocked_at is not None:
            await effects.lift(row.domain, current.severity.value, row.blocked_at)
        cleared = replace(BlockSpec(), severity=Severity.NOOP)
        await _store(row, cleared, None)
    await _after(backends, row.domain, effects.Severed())
    return current


async def unblock_domain(backends: Backends, raw_domain: str) -> DomainBlock:
    domain = normalise_domain(raw_domain, backends.settings.instance.domain)
    existing = await find_block(domain)
    if existing is None:
        raise NotFound(f"{domain} is not blocked")
    return await unblock(backends, existing.id)


async def _store(row: Domain, spec: BlockSpec, blocked_at: object) -> None:
    row.blocked = spec.severity is Severity.SUSPEND
    row.silenced = spec.severity is Severity.SILENCE
    row.blocked_at = blocked_at  # type: ignore[assignment]
    row.reject_media, row.reject_reports = spec.reject_media, spec.reject_reports
    row.note, row.public_comment = spec.private_comment, spec.public_comment
    row.obfuscate = spec.obfuscate
    await row.save(
        update_fields=["blocked", "silenced", "blocked_at", "reject_media", "reject_reports",
                       "note", "public_comment", "obfuscate"]
    )  # fmt: skip


async def _after(backends: Backends, domain: str, severed: effects.Severed) -> None:
    """After the commit: caches, timelines, and every process told."""
    await effects.after_commit(backends.redis, domain, severed)
    await domains.changed(backends.redis)
