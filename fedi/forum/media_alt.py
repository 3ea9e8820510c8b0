"""Changing an upload's alt text: the upload, then every post and event showing it.

A module of its own because it spans posts and events (events build on posts, so
posts cannot reach events); all of it happens in one transaction, so the stored alt
text and the Updates sent for it never disagree.
"""

from __future__ import annotations

from typing import Any

from fedi.core.context import Context
from fedi.forum import events as event_service
from fedi.forum import media as media_service
from fedi.forum import posts as post_service
from storage.actors import Actor

__all__ = ["change_media_alt"]


async def change_media_alt(ctx: Context, *, actor: Actor, media_id: int, alt: Any
                           ) -> media_service.Media:
    """The uploader changes an upload's alt text; the posts and events showing it are
    updated and their Updates go out."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        media = await media_service.change_alt(conn, actor=actor, media_id=media_id, alt=alt)
        await post_service.send_updates_for_media(conn, ctx, actor=actor, media_id=media.id)
        await event_service.send_updates_for_media(conn, ctx, media.id)
    return media
