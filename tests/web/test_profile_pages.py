"""Profile pages: a remote person's page (/u/name@host) shows the profile fields their
server sent (a real WordPress ActivityPub actor from the corpus, cached the way the
inbound path caches actors), sanitised; a local person's /u/ address redirects."""

from __future__ import annotations

import json

import httpx

from fedi.core.context import Context
from fedi.federation.remote import store_actor
from tests.support.corpus import CORPUS
from tests.support.helpers import User


async def test_remote_profile_fields_are_shown(app_client: httpx.AsyncClient,
                                               ctx: Context) -> None:
    document = json.loads((CORPUS / "wordpress" / "objects" / "person.json").read_text())
    # A hostile field too: its script must not reach the page.
    document["attachment"].append({"type": "PropertyValue", "name": "Trick",
                                   "value": "<script>alert(1)</script><b>fett</b>"})
    await store_actor(ctx, document, expected_id=document["id"])
    page = await app_client.get("/u/matthias@pfefferle.org")
    assert page.status_code == 200, page.text
    assert "<dt>Blog</dt>" in page.text and 'href="https://pfefferle.org/"' in page.text
    assert "<dt>Trick</dt>" in page.text and "<b>fett</b>" in page.text
    assert "<script>alert" not in page.text
    unknown = await app_client.get("/u/niemand@pfefferle.org")
    assert unknown.status_code == 404 and "Diese Person ist hier nicht bekannt." in unknown.text


async def test_local_person_address_redirects(app_client: httpx.AsyncClient,
                                              alice: User) -> None:
    r = await app_client.get("/u/alice")
    assert r.status_code == 301 and r.headers["location"] == "/users/alice"
