"""Translations of the domain services' error messages for the web pages.

The services (``fedi.forum``) speak English, for the API; the pages show their messages
next to a form field in the reader's language. Fixed messages are catalog entries as they
are (the English catalog turns the terse ones into sentences); messages with a value in
them are matched by a pattern and translated with the value put back. A message that
matches nothing (an exception's text, a new message nobody translated yet) is never shown:
the reader gets the general sentence for the answer's status instead, and the log the text.
"""

from __future__ import annotations

import functools
import logging
import re

from fedi.core import i18n

log = logging.getLogger("fedi.web.messages")


def N_(message: str) -> str:
    """Mark a message for extraction into the catalogs without translating it here."""
    return message


# Fixed messages of fedi.forum (accounts, posts) and fedi.core.actors that forms can show.
# The participation rules' refusals are fedi.forum.policy's (Refusal.text translates).
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
    N_("only the author may change this post"),
    N_("this post was deleted"),
    N_("only a thread has a title"),
    N_("nothing to change: give title or content"),
    # fedi.forum.staff, threads, bans, reports, domains, accounts_admin
    N_("reason is required"),
    N_("reason must not be empty"),
    N_("reason must be at most 2000 characters"),
    N_("you cannot report yourself"),
    N_("you cannot ban yourself"),
    N_("expires_at must be in the future"),
    N_("administrators cannot be banned"),
    N_("Only administrators may do this."),
    N_("Only moderators and administrators may do this."),
    N_("the author deleted this post already"),
    N_("this post is removed already"),
    N_("this post is not removed"),
    N_("this thread is locked already"),
    N_("this thread is not locked already"),
    N_("this thread is pinned already"),
    N_("this thread is not pinned already"),
    N_("a deleted or removed thread cannot be pinned"),
    N_("only a thread can be locked: give the thread's id"),
    N_("only a thread can be pinned: give the thread's id"),
    N_("this report is resolved already"),
    N_("this ban is over already"),
    N_("this is our own host"),
    N_("you cannot change your own account's status"),
    N_("actor is required: a handle name@host or an actor URL"),
    N_("this post was removed by the moderators"),
    N_("reason must be text"),
    N_("reason must not contain NUL characters"),
    N_("actor must be a handle name@host or an actor URL"),
    # fedi.forum.instance_settings (the admin area's settings)
    N_("name must not be empty"),
    N_("contact_email must be an e-mail address"),
    # fedi.forum.erasure, fedi.routes.api_privacy
    N_("The password is wrong: the account was not deleted."),
    N_("password is required to delete the account"),
    N_("You have asked for several exports within the hour: please wait a while."),
    N_("keep_posts must be true or false"),
    N_("administrators delete their own account with DELETE /api/v1/me, which asks for "
       "the password"),
    # fedi.forum.terms (the admin form and the page that asks to accept a new version)
    N_("text must not contain NUL characters"),
    N_("text must not be empty"),
    N_("text must be at most 100000 characters"),
    N_("another version was published at the same moment; please try again"),
    # fedi.forum.answers, posts (thread kinds), web.tag_pages
    N_("sort must be best, oldest or newest"),
    N_("a thread cannot be its own answer: give the id of a reply"),
    N_("this reply is not the accepted answer"),
    N_("only a reply can be an official answer: give a reply's id"),
    N_("a deleted or removed reply cannot be highlighted"),
    N_("this reply is highlighted already"),
    N_("this reply is not highlighted already"),
    N_('kind must be "question" or "discussion"'),
    N_("This is not a hashtag."),
    # fedi.forum.events (the event form names its fields; these are about the whole body)
    N_("agenda must be a list of at most 100 items"),
    N_("each agenda item is an object with time, title and speaker"),
    N_("the body must be a JSON object"),
    N_("place must be an object (name, street, postal_code, locality, region, country)"),
)

# The sentence shown for a message nobody translated, by the answer's status.
GENERIC = {
    400: N_("The request could not be processed. Please check your input."),
    401: N_("Please log in first."),
    403: N_("You are not allowed to do this."),
    404: N_("This page does not exist."),
    405: N_("This address cannot be used like this. Please use the links and buttons "
            "of the pages."),
    409: N_("This is not possible in the current state. Please reload the page."),
    410: N_("This is no longer available."),
    413: N_("The form is too large."),
    422: N_("The request could not be processed. Please check your input."),
    429: N_("Too many attempts. Please wait a few minutes and try again."),
    502: N_("Another server did not answer as expected. Please try again later."),
}
GENERIC_OTHER = N_("Something went wrong. Please try again later.")

# (pattern of the English message, catalog entry with %(value)s for the captured value)
_PATTERNS = (
    (re.compile(r"^([\w.]+) must be one line$"), N_("Please write this on one line.")),
    (re.compile(r"^the name '(.*)' is already taken$"),
     N_("The name %(value)s is already taken.")),
    (re.compile(r"^'(.*)' is not an e-mail address$"),
     N_("%(value)s is not an e-mail address.")),
    (re.compile(r"^username may contain only a-z, 0-9 and _, with \. or - inside "
                r"\(got '(.*)'\)$"),
     N_("The user name may contain only a–z, 0–9 and _, with . or - inside (not %(value)s).")),
    (re.compile(r"^the name '(.*)' belonged to a deleted account and cannot be used again: "
                r"please choose another one$"),
     N_("The name %(value)s belonged to a deleted account and cannot be used again: please "
        "choose another one.")),
    (re.compile(r"^username '(.*)' is reserved$"),
     N_("The user name %(value)s is reserved.")),
    (re.compile(r"^no post (\d+)(?: here)?$"), N_("There is no post %(value)s.")),
    # fedi.forum.media: FEDI_MEDIA_MAX_MB is configurable
    (re.compile(r"^The file is larger than (\d+) MB\.$"),
     N_("The file is larger than %(value)s MB.")),
    # fedi.forum.group_move
    (re.compile(r"^(\w+) is required: the group as name@host$"),
     N_("Please name the group as name@host.")),
    (re.compile(r"^(.*) is a group of this instance, not another one's$"),
     N_("%(value)s is a group of this instance, not of another one.")),
    (re.compile(r"^(.*) is not an alias of this group$"),
     N_("%(value)s is not an alias of this group.")),
    (re.compile(r"^This group has moved already, to (.*)\.$"),
     N_("This group has moved already, to %(value)s.")),
    (re.compile(r"^The target group does not name this group as an alias yet: its "
                r"administrators must first add this group as an alias on their instance "
                r"\(POST /api/v1/admin/groups/(.*)/aliases there\)\.$"),
     N_("The target group does not name this group as an alias yet: its administrators must "
        "first add this group as an alias on their instance (POST "
        "/api/v1/admin/groups/%(value)s/aliases there).")),
    (re.compile(r"^a group has at most (\d+) aliases$"),
     N_("A group can have at most %(value)s aliases.")),
    (re.compile(r"^no group (.*) is known here$"), N_("There is no group %(value)s here.")),
    (re.compile(r"^no group named '(.*)' here$"), N_("There is no group %(value)s here.")),
    (re.compile(r"^no group '(.*)' here$"), N_("There is no group %(value)s here.")),
    (re.compile(r"^no user named '(.*)' here$"), N_("There is nobody named %(value)s here.")),
    (re.compile(r"^the group (.*) has been deleted$"),
     N_("The group %(value)s has been deleted.")),
    (re.compile(r"^(.*) has been deleted$"), N_("This has been deleted: %(value)s.")),
    # fedi.forum.groups: remote lookups (the exception's text stays in the log)
    (re.compile(r"^could not reach the host of (.*?): .*$", re.DOTALL),
     N_("The server of %(value)s could not be reached. Please try again later.")),
    (re.compile(r"^(.*?) did not answer with a usable group document: .*$", re.DOTALL),
     N_("The server of %(value)s did not send a usable group.")),
    (re.compile(r"^no such group at that host: (.*?) \(.*\)$", re.DOTALL),
     N_("The server knows no group %(value)s.")),
    (re.compile(r"^'(.*)' is not a group name or name@host$"),
     N_("The name %(value)s is neither a group name nor an address name@server.")),
    (re.compile(r"^(.*) is a \w+, not a group$"),
     N_("The address %(value)s does not belong to a group.")),
    # fedi.forum.staff, threads, bans, reports, domains, accounts_admin
    (re.compile(r"^Only moderators of (.*) \(or administrators\) may do this\.$"),
     N_("Only moderators of %(value)s (or administrators) may do this.")),
    (re.compile(r"^(.*) is banned there already \(ban \d+\)$"),
     N_("%(value)s is banned there already.")),
    (re.compile(r"^no actor (.*) (?:is known here|was found)$"),
     N_("Nobody with the address %(value)s is known.")),
    (re.compile(r"^'(.*)' is not a host name \(with an optional :port\)$"),
     N_("%(value)s is not a domain name.")),
    (re.compile(r"^(.*) is a group of another instance: its own moderators ban there$"),
     N_("%(value)s is a group of another instance: its own moderators ban there.")),
    (re.compile(r"^(.*) is a \w+: only people and bots can be banned$"),
     N_("%(value)s is not a person: only people and bots can be banned.")),
    (re.compile(r"^(.*?) is on a host we do not contact: .*$", re.DOTALL),
     N_("%(value)s is on a server this forum does not contact.")),
    (re.compile(r"^could not look up (.*?): .*$", re.DOTALL),
     N_("The address %(value)s could not be looked up: its server did not answer as "
        "expected. Please try again later.")),
    (re.compile(r"^the account is (\w+): cannot \w+ it$"),
     N_("The account is %(value)s: this is not possible.")),
    (re.compile(r"^no report (\d+)$"), N_("There is no report %(value)s.")),
    (re.compile(r"^no ban (\d+)$"), N_("There is no ban %(value)s.")),
    (re.compile(r"^no account '(.*)'$"), N_("There is no account %(value)s.")),
    (re.compile(r"^no event (\d+)$"), N_("There is no event %(value)s.")),
    (re.compile(r"^no registration (\d+) for this event$"),
     N_("There is no registration %(value)s for this event.")),
    (re.compile(r"^the thread of post (\d+) is unknown$"),
     N_("The thread of post %(value)s is not known here.")),
    (re.compile(r"^kind must be one of (.*), got '.*'$"),
     N_("This kind of document does not exist; there are: %(value)s.")),
    (re.compile(r"^no version of (.*) is published$"),
     N_("No version of %(value)s is published.")),
    (re.compile(r"^version \S+ of \w+ is not the current one: read and accept version (\S+)$"),
     N_("This version is not the current one: please read and accept version %(value)s.")),
    (re.compile(r"^the text is the same as version (\S+)$"),
     N_("The text is the same as version %(value)s.")),
    # fedi.forum.events: a form field's checks (the page shows them beside the field)
    (re.compile(r"^([\w.]+) is required$"), N_("Please fill in this field.")),
    (re.compile(r"^([\w.]+) must be a string$"), N_("Please enter text in this field.")),
    (re.compile(r"^[\w.]+ must be at most (\S+) characters$"),
     N_("This field takes at most %(value)s characters.")),
    (re.compile(r"^([\w.]+) must be an http\(s\) URL$"),
     N_("Please enter a web address that starts with https:// or http://.")),
    (re.compile(r"^[\w.]+ must be one of (.*)$"), N_("Please choose one of: %(value)s.")),
)


@functools.cache
def _known() -> frozenset[str]:
    """The catalog's msgids (German is complete, so its compiled catalog has them all)."""
    catalog = i18n.translations(i18n.DEFAULT_LANGUAGE)._catalog
    return frozenset(key for key in catalog if isinstance(key, str) and key)


def generic_message(lang: str, status: int | None) -> str:
    """The general sentence for an answer with ``status``."""
    if status in GENERIC:
        message = GENERIC[status]
    elif status is not None and 400 <= status < 500:
        message = GENERIC[400]
    else:
        message = GENERIC_OTHER
    return i18n.gettext(lang, message)


def translate_message(lang: str, message: str, status: int | None = None) -> str:
    """``message`` in ``lang``; a message the catalogs and patterns do not know becomes
    the general sentence for ``status``."""
    translations = i18n.translations(lang)
    if message in _known():
        translated: str = translations.ugettext(message)
        return translated
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return translations.ugettext(template) % {"value": match.group(1)}
    log.info("no translation for the message %r (status %s)", message, status)
    return generic_message(lang, status)
