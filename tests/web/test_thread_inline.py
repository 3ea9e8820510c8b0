"""thread.html inlines ``macros.html``'s post_article for its replies (a macro call per
reply was the largest cost of a 300-reply page): the inlined text must render exactly
what the macro renders, for every kind of post, author and viewer."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from fedi.web.render import TEMPLATES, environment
from storage.posts import ReplyRow

BEGIN = "{# inline post_article: begin #}\n"
END = "{# inline post_article: end #}\n"
STRINGS = "{# inline post_article: strings #}\n"
STRINGS_END = "{# inline post_article: strings end #}\n"
MACRO_CALL = ("{{ m.post_article(item.post, actors, liked, may_reply=may_reply,"
              " may_like=may_like) }}\n")
WRAP = ('{% import "macros.html" as m with context %}\n'
        "{{STRINGS}}{% for item in items %}\n{{BODY}}{% endfor %}\n")
NOW = datetime(2026, 12, 4, 13, 5, tzinfo=UTC)


def _between(begin: str, end: str) -> str:
    source = (TEMPLATES / "thread.html").read_text(encoding="utf-8")
    start = source.index(begin) + len(begin)
    return source[start:source.index(end)]


def _actor(actor_id: int, **fields: object) -> SimpleNamespace:
    values: dict[str, object] = {
        "id": actor_id, "type": "Person", "local": True, "username": f"u{actor_id}",
        "name": f"User {actor_id}", "deleted_at": None, "official_position": None,
        "url": None, "ap_id": f"https://remote.example/u/{actor_id}", "domain": "here.example",
        "handle": f"u{actor_id}@here.example"}
    values.update(fields)
    return SimpleNamespace(**values)


ACTORS = {
    1: _actor(1),
    2: _actor(2, official_position="Bürgermeisterin <Stadt>"),
    3: _actor(3, local=False, domain="remote.example", name=None,
              url="https://remote.example/@u3"),
    4: _actor(4, deleted_at=NOW),
    5: _actor(5, name="Gruppe & Co", type="Group"),
}


def _post(post_id: int, author_id: int, **fields: object) -> ReplyRow:
    values: dict[str, object] = {
        "id": post_id, "thread_id": 1, "parent_id": 1, "depth": 1, "author_id": author_id,
        "content_html": "<h1>Titel</h1><p>Text <em>mit</em> &amp; Markup</p>",
        "language": "de", "summary": None, "like_count": 0, "highlighted_at": None,
        "removed_at": None, "removed_reason": None, "deleted_at": None, "published": NOW,
        "updated": None}
    values.update(fields)
    return ReplyRow(**values)  # type: ignore[arg-type]


POSTS = [
    _post(10, 1),
    _post(11, 2, like_count=1, updated=NOW, language=None),
    _post(12, 3, like_count=1234, summary="Spoiler <b>"),
    _post(13, 4, deleted_at=NOW, content_html=""),
    _post(14, 1, removed_at=NOW, removed_reason="Spam <script>"),
    _post(15, 1, removed_at=NOW),
    _post(16, 99),  # an author we do not know
    _post(17, 5, removed_at=NOW, deleted_at=NOW),
    # Issue 19: attachments (an image with alt text, a document), also under a warning.
    _post(18, 3, attachments=[
        {"type": "Image", "url": "https://here.example/media/a.jpg", "media_type": "image/jpeg",
         "name": "Graben <Hauptstraße>", "width": 800, "height": 600},
        {"type": "Document", "url": "https://x.example/plan.pdf",
         "media_type": "application/pdf", "name": "plan.pdf"}]),
    _post(19, 1, summary="Baustelle", attachments=[
        {"type": "Document", "url": "https://here.example/media/b.pdf",
         "media_type": "application/pdf", "name": "b.pdf", "media_id": 3, "size": 1234}]),
]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_inlined_reply_renders_as_the_macro(lang: str) -> None:
    env = environment(lang)
    strings = _between(STRINGS, STRINGS_END)
    ours = env.from_string(WRAP.replace("{{STRINGS}}", strings).replace(
        "{{BODY}}", _between(BEGIN, END)))
    reference = env.from_string(WRAP.replace("{{STRINGS}}", "").replace("{{BODY}}", MACRO_CALL))
    items = [SimpleNamespace(post=post, children=0) for post in POSTS]
    viewers = [None, SimpleNamespace(actor=ACTORS[1]), SimpleNamespace(actor=ACTORS[2])]
    groups = [None, SimpleNamespace(local=True, username="breitband")]
    checked = 0
    for viewer, may_like, may_reply, may_moderate, group in itertools.product(
            viewers, (True, False), (True, False), (True, False), groups):
        if may_moderate and viewer is None:
            continue  # moderators are logged in
        values = {"items": items, "actors": ACTORS, "liked": {11, 12}, "viewer": viewer,
                  "may_like": may_like, "may_reply": may_reply, "may_moderate": may_moderate,
                  "group": group, "csrf": "token-<&>"}
        expected = reference.render(values)
        assert ours.render(values) == expected, (viewer, may_like, may_reply, may_moderate)
        checked += 1
    assert checked == 40
