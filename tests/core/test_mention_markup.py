"""@name, @name@host and #tag in Markdown (fedi/core/mention_markup.py through
fedi/core/markup.py): found and linked on the parsed text, never in code or links."""

from __future__ import annotations

from fedi.core.markup import render_markdown, scan_markdown
from fedi.core.mention_markup import tag_url

TAGS = "https://forum.example/tags"
ALICE = "https://forum.example/users/alice"
BOB = "https://social.example/@bob"


def test_handles_and_tags_are_found_outside_code_and_links() -> None:
    found = scan_markdown(
        "Hallo @alice und @Bob@Social.Example, #Glasfaser und #Straße!\n\n"
        "`@code #inline` [@verlinkt #x](https://a.example/) https://b.example/#anker\n\n"
        "```\n@block #block\n```\n\n"
        "    @eingerückt #eingerückt\n\n"
        "Mail an info@example.org, Thema #1, Bob noch einmal: @bob@social.example")
    assert found.handles == ["alice", "Bob@Social.Example"]
    assert found.hashtags == ["glasfaser", "straße"]


def test_resolved_mentions_become_h_card_links_unknown_ones_stay_text() -> None:
    html = render_markdown("Frage an @alice, @bob@social.example und @carol@nowhere.example",
                           mentions={"alice": ALICE, "bob@social.example": BOB},
                           tag_base=TAGS)
    assert (f'<span class="h-card"><a href="{ALICE}" class="u-url mention" '
            f'rel="nofollow ugc noopener">@<span>alice</span></a></span>') in html
    assert f'<a href="{BOB}" class="u-url mention"' in html and "@<span>bob</span>" in html
    assert "@carol@nowhere.example" in html and "nowhere.example\"" not in html


def test_email_addresses_are_mail_links_not_mentions() -> None:
    html = render_markdown("Schreiben Sie an bob@example.org",
                           mentions={"bob@example.org": BOB}, tag_base=TAGS)
    assert 'href="mailto:bob@example.org"' in html
    assert "mention" not in html


def test_nothing_is_linked_in_code_or_inside_a_link() -> None:
    source = "`@alice #tag`\n\n```\n@alice #tag\n```\n\n[@alice #tag](https://x.example/)"
    html = render_markdown(source, mentions={"alice": ALICE}, tag_base=TAGS)
    assert "mention" not in html and TAGS not in html
    assert "<code>@alice #tag</code>" in html


def test_hashtags_link_to_the_tag_page_lower_case_with_umlauts() -> None:
    html = render_markdown("#Glasfaser für #Südstraße, nicht #1 und nicht a#b",
                           tag_base=TAGS)
    assert (f'<a href="{TAGS}/glasfaser" class="mention hashtag" rel="nofollow ugc noopener">'
            "#<span>Glasfaser</span></a>") in html
    assert f'href="{TAGS}/s%C3%BCdstra%C3%9Fe"' in html and "#<span>Südstraße</span>" in html
    assert "#1" in html and "a#b" in html and html.count("hashtag") == 2
    assert tag_url(TAGS, "Südstraße") == f"{TAGS}/s%C3%BCdstra%C3%9Fe"


def test_without_a_request_for_links_markdown_renders_as_before() -> None:
    # Group summaries, terms, profiles: render_markdown without mentions or tag_base.
    assert render_markdown("@alice #tag") == "<p>@alice #tag</p>"


def test_handles_with_ports_and_punctuation_around_them() -> None:
    found = scan_markdown("(@alice@127.0.0.1:8000), @bob. @carol: @@dave /@eve")
    assert found.handles == ["alice@127.0.0.1:8000", "bob", "carol"]
    html = render_markdown("(@alice@127.0.0.1:8000).",
                           mentions={"alice@127.0.0.1:8000": ALICE})
    assert html.startswith('<p>(<span class="h-card">') and html.endswith("</span>).</p>")


def test_markup_in_the_text_cannot_escape_the_link() -> None:
    html = render_markdown('@alice "><script>', mentions={"alice": 'x"><b>'}, tag_base=TAGS)
    assert "<script>" not in html and "<b>" not in html
