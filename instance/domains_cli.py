"""``starling domains block|unblock|list``: domain blocks from the command line.

The same service as ``/admin/domains`` and the admin API, so a block made here is in force in
every running web and worker process when the command returns (services/domains: published).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from instance.config import Settings

SEVERITIES = ("silence", "suspend", "noop")


def add_parser(commands: Any) -> None:
    """The ``domains`` command and its sub-commands, on the main parser's sub-parsers."""
    domains = commands.add_parser("domains", help="block, unblock and list remote domains")
    actions = domains.add_subparsers(dest="domains_action", required=True, metavar="ACTION")
    block = actions.add_parser(
        "block", help="silence or suspend a domain (blocking again changes the block)"
    )
    block.add_argument("host", help="the domain, e.g. spam.example")
    block.add_argument(
        "--severity", choices=SEVERITIES, default="silence",
        help="silence: out of public timelines and search; suspend: no federation at all",
    )  # fmt: skip
    block.add_argument("--public-comment", default="", help="shown in the public list")
    block.add_argument("--private-comment", default="", help="seen by moderators only")
    block.add_argument("--reject-media", action="store_true", help="do not keep its media")
    block.add_argument("--reject-reports", action="store_true", help="ignore its reports")
    block.add_argument("--obfuscate", action="store_true", help="star it out in the public list")
    unblock = actions.add_parser("unblock", help="lift a domain's block")
    unblock.add_argument("host")
    actions.add_parser("list", help="list the blocked domains")


async def _run(settings: Settings, args: argparse.Namespace) -> str:
    from instance import lifecycle
    from services import domain_blocks
    from services.domain_blocks import BlockSpec, Severity

    backends = await lifecycle.open_backends(settings)
    try:
        if args.domains_action == "block":
            spec = BlockSpec(
                severity=Severity(args.severity),
                reject_media=args.reject_media,
                reject_reports=args.reject_reports,
                private_comment=args.private_comment,
                public_comment=args.public_comment,
                obfuscate=args.obfuscate,
            )
            made = await domain_blocks.block(backends, args.host, spec, replace_existing=True)
            return f"starling: {made.domain} is blocked ({made.severity.value})"
        if args.domains_action == "unblock":
            lifted = await domain_blocks.unblock_domain(backends, args.host)
            return f"starling: {lifted.domain} is no longer blocked"
        return _table(await domain_blocks.list_blocks())
    finally:
        await lifecycle.close_backends(backends)


def _table(blocks: list[Any]) -> str:
    if not blocks:
        return "starling: no blocked domains"
    lines = [f"{'DOMAIN':40} {'SEVERITY':9} {'SINCE':20} PUBLIC COMMENT"]
    for item in blocks:
        since = item.created_at.strftime("%Y-%m-%d %H:%M") if item.created_at else ""
        lines.append(f"{item.domain:40} {item.severity.value:9} {since:20} {item.public_comment}")
    return "\n".join(lines)


def run(settings: Settings, args: argparse.Namespace) -> str:
    """Answers what to print; StarlingError for what the caller reports in one line."""
    return asyncio.run(_run(settings, args))
