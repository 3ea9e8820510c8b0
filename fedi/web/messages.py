"""Translations of the domain services' error messages for the web pages.

The services (``fedi.forum``) speak English, for the API; the pages show their messages
next to a form field in the reader's language. Fixed messages are catalog entries as they
are; messages with a value in them are matched by a pattern and translated with the value
put back. A message that matches nothing is shown as it is (English), never dropped.
"""

from __future__ import annotations

import re

from fedi.web import i18n


def N_(message: str) -> str:
    """Mark a message for extraction into the catalogs without translating it here."""
    return message


# Fixed messages of fedi.forum (accounts, posts) and fedi.actors that forms can show.
SERVICE_MESSAGES = (
    N_("email is required"),
    N_("username is required"),
    N_("username must be at most 30 characters"),
    N_("password must be at least 10 characters"),
    N_("password must be at most 1024 characters"),
    N_("display_name must be at most 100 characters"),
    N_("display_name must not contain control characters or line breaks"),
    N_("an account with this e-mail address exists"),
    N_("Registrations on this instance are closed."),
    N_("The username or the password is wrong."),
    N_("Your sign-up awaits approval by an administrator."),
    N_("Your sign-up was not approved."),
    N_("This account is suspended."),
    N_("This account cannot log in."),
    N_("title is required"),
    N_("title must be at most 200 characters"),
    N_("content is required"),
    N_("content must be at most 20000 characters"),
    N_("only the moderators of this group may start threads in it"),
    N_("this thread is locked: no new replies"),
    N_("you cannot reply to a deleted or removed post"),
    N_("only the author may change this post"),
    N_("this post was deleted"),
    N_("this post was deleted or removed"),
    N_("only a thread has a title"),
    N_("nothing to change: give title or content"),
    N_("the thread no longer exists"),
)

# (pattern of the English message, catalog entry with %(value)s for the captured value)
_PATTERNS = (
    (re.compile(r"^the name '(.*)' is already taken$"),
     N_("The name %(value)s is already taken.")),
    (re.compile(r"^'(.*)' is not an e-mail address$"),
     N_("%(value)s is not an e-mail address.")),
    (re.compile(r"^username may contain only a-z, 0-9 and _, with \. or - inside "
                r"\(got '(.*)'\)$"),
     N_("The user name may contain only a–z, 0–9 and _, with . or - inside (not %(value)s).")),
    (re.compile(r"^username '(.*)' is reserved$"),
     N_("The user name %(value)s is reserved.")),
    (re.compile(r"^no post (\d+)$"), N_("There is no post %(value)s.")),
    (re.compile(r"^no group (.*) is known here$"), N_("There is no group %(value)s here.")),
)


def translate_message(lang: str, message: str) -> str:
    translations = i18n.translations(lang)
    translated: str = translations.ugettext(message)
    if translated != message:
        return translated
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return translations.ugettext(template) % {"value": match.group(1)}
    return message
