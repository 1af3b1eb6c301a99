"""One status as a viewer sees it now: the answer of every endpoint that acts on a status."""

from __future__ import annotations

from typing import Any

from services.errors import NotFound
from services.statuses import hydrate
from web.api.entities import render_status
from web.deps import backends, settings


async def status_entity(viewer_id: int | None, post_id: int) -> dict[str, Any]:
    """The Status entity of ``post_id`` for ``viewer_id``; 404 when it is gone or hidden."""
    hydrated = await hydrate(backends().redis, viewer_id, [post_id])
    if not hydrated.posts:
        raise NotFound("Record not found")
    return render_status(hydrated.posts[0], hydrated, settings())
