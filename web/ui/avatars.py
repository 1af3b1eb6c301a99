"""Default avatars: a symmetric 5x5 pattern in a colour, both derived from the account id.

Nothing is stored or uploaded: the same id always draws the same picture, so the SVG is served
with a year-long cache and differs from one account to the next.
"""

from __future__ import annotations

import hashlib

from quart import Response

from web.ui.blueprint import ui

CELL = 16
GRID = 5
PADDING = 20
SIZE = CELL * GRID + 2 * PADDING  # 120


def avatar_url(account_id: int, avatar: str | None = None) -> str:
    """The account's own picture if it has one, else its generated one."""
    return avatar or f"/avatars/{account_id}.svg"


def avatar_svg(account_id: int) -> str:
    digest = hashlib.sha256(str(account_id).encode()).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    ink = f"hsl({hue} 55% 42%)"
    paper = f"hsl({hue} 60% 92%)"
    cells = []
    for row in range(GRID):
        for col in range((GRID + 1) // 2):
            if digest[2 + row * 3 + col] % 2:
                for x in {col, GRID - 1 - col}:
                    left, top = PADDING + x * CELL, PADDING + row * CELL
                    cells.append(f'<rect x="{left}" y="{top}" width="{CELL}" height="{CELL}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'width="{SIZE}" height="{SIZE}"><rect width="{SIZE}" height="{SIZE}" fill="{paper}"/>'
        f'<g fill="{ink}">{"".join(cells)}</g></svg>'
    )


@ui.get("/avatars/<int:account_id>.svg")
async def avatar(account_id: int) -> Response:
    response = Response(avatar_svg(account_id), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
