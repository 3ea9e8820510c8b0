"""The reply tree as open/close steps: order, nesting, and no recursion limit."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from fedi.web.pages import TreeItem, flatten_replies
from storage.posts import Post

_NOW = datetime(2025, 1, 1, tzinfo=UTC)
_BASE = Post(
    id=1, ap_id="x", local=True, group_id=None, author_id=1, thread_id=1, parent_id=None,
    depth=0, type="Note", title="t", content_html="", source=None, source_media_type=None,
    language=None, summary=None, sensitive=False, url=None, context_url=None, hashtags=[],
    attachments=[], raw=None, like_count=0, dislike_count=0, reply_count=0, locked=False,
    pinned_at=None, removed_at=None, removed_reason=None, deleted_at=None, published=_NOW,
    updated=None, last_activity_at=_NOW,
)


def _post(post_id: int, parent_id: int | None) -> Post:
    return dataclasses.replace(_BASE, id=post_id, parent_id=parent_id)


def _shape(items: list[TreeItem]) -> str:
    return " ".join(f"<{i.post.id}" if i.post else ">" for i in items)


def test_order_and_nesting() -> None:
    posts = [_post(1, None), _post(2, 1), _post(3, 1), _post(4, 2), _post(5, 4), _post(6, 2)]
    items = flatten_replies(posts, 1)
    assert _shape(items) == "<2 <4 <5 > > <6 > > <3 >"
    assert [i.children for i in items if i.post] == [2, 1, 0, 0, 0]


def test_a_chain_of_thousands_does_not_recurse() -> None:
    posts = [_post(1, None)] + [_post(n, n - 1) for n in range(2, 3002)]
    items = flatten_replies(posts, 1)
    assert len(items) == 6000
    assert items[0].post is not None and items[0].post.id == 2
    assert all(i.post is None for i in items[3000:])
