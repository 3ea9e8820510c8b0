"""The password policy's refusals reach the web sign-up form in German."""

from __future__ import annotations

import httpx
import pytest

from fedi.forum import accounts
from fedi.web.messages import translate_message
from tests.web.conftest import post_form

GERMAN = {
    accounts.REFUSED_AS_NAME: "Das Passwort darf nicht Ihr Benutzername oder Ihre "
                              "E-Mail-Adresse sein.",
    accounts.REFUSED_AS_REPEATED: "Das Passwort darf nicht aus einem einzigen, wiederholten "
                                  "Zeichen bestehen.",
    accounts.REFUSED_AS_GUESSABLE: "Dieses Passwort ist zu verbreitet oder zu leicht zu "
                                   "erraten.",
}


@pytest.mark.parametrize("message", list(GERMAN))
def test_refusals_are_translated_with_advice(message: str) -> None:
    german = translate_message("de", message)
    assert german.startswith(GERMAN[message])
    assert "Bitte wählen Sie" in german
    assert translate_message("en", message) == message


async def test_signup_form_shows_the_refusal_in_german(app_client: httpx.AsyncClient) -> None:
    response = await post_form(app_client, "/signup", "/signup", {
        "username": "theo", "email": "theo@example.org", "password": "passwort123"})
    assert response.status_code == 422
    assert GERMAN[accounts.REFUSED_AS_GUESSABLE] in response.text
    assert 'value="theo"' in response.text  # the form keeps what was typed
