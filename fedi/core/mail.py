"""Outgoing e-mail: every mail is rendered from templates, built as a MIME message and
queued in the mail outbox in the caller's transaction (:func:`enqueue_mail`); a worker
sends it (:mod:`fedi.core.mail_send`).

Templates live in ``fedi/core/mail_templates/`` (see its README): ``<name>.<lang>.txt``
(first line: the subject; then a blank line; then the text) and ``<name>.<lang>.html``
(the HTML part, autoescaped), for each language of :data:`fedi.core.i18n.LANGUAGES`.
Both parts are wrapped in ``_layout.<lang>.txt/.html``, which adds the instance's name
and a link to the settings page, so no template has to remember them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from fedi.core.context import Context
from fedi.core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from storage import instance_settings as instance_settings_store
from storage import mail as mail_store

__all__ = ["TEMPLATES", "RenderedMail", "build_message", "enqueue_mail", "first_link",
           "mail_language", "render_mail"]

TEMPLATES = Path(__file__).resolve().parent / "mail_templates"
SETTINGS_PATH = "/settings"
_LINK = re.compile(r"https?://[^\s<>\"']+")
_ADDRESS = re.compile(r"^[^@\s\x00-\x1f\x7f<>,;]+@[^@\s\x00-\x1f\x7f<>,;]+$")


def mail_language(account: Any) -> str:
    """The language to write to an account in: its own setting when it has one (a
    ``language`` or ``locale`` field), else German (the forum's first language)."""
    for name in ("language", "locale"):
        value = getattr(account, name, None)
        if isinstance(value, str) and value[:2].lower() in LANGUAGES:
            return value[:2].lower()
    return DEFAULT_LANGUAGE


@functools.cache
def _environment() -> Environment:
    # StrictUndefined: a missing value is a bug to see in the tests, not an empty gap.
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html"], default_for_string=False),
                       keep_trailing_newline=True)


class RenderedMail:
    """A mail's subject and its two bodies."""

    def __init__(self, subject: str, text: str, html: str) -> None:
        self.subject = subject
        self.text = text
        self.html = html


def render_mail(ctx: Context, template: str, lang: str,
                values: Mapping[str, Any], *, instance_name: str | None = None) -> RenderedMail:
    """Render ``template`` in ``lang`` (German when there is no such language);
    ``instance_name``: the name an admin gave the instance (else the config's)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    if not re.fullmatch(r"[a-z0-9_]+", template):
        raise ValueError(f"not a mail template name: {template!r}")
    env = _environment()
    common = {"instance_name": instance_name or ctx.settings.instance_name,
              "base_url": ctx.settings.base_url,
              "settings_url": ctx.url(SETTINGS_PATH), "lang": lang}
    context = {**common, **values}
    subject, _, text = env.get_template(f"{template}.{lang}.txt").render(context) \
        .partition("\n")
    html = env.get_template(f"{template}.{lang}.html").render(context)
    text_part = env.get_template(f"_layout.{lang}.txt").render(
        {**common, "body": text.strip("\n")})
    html_part = env.get_template(f"_layout.{lang}.html").render(
        # The body is the output of an autoescaped template: safe to embed as is.
        {**common, "subject": subject.strip(), "body": Markup(html)})  # noqa: S704
    return RenderedMail(" ".join(subject.split()), text_part, html_part)


def build_message(ctx: Context, *, to: str, mail: RenderedMail, lang: str,
                  headers: Mapping[str, str] | None = None,
                  instance_name: str | None = None) -> EmailMessage:
    """The MIME message: text and HTML as alternatives, from the instance; ``headers``
    adds more (``List-Unsubscribe`` ...), each a single line."""
    if not _ADDRESS.match(to):
        raise ValueError("not a single e-mail address")
    sender = ctx.settings.mail_from or f"noreply@{ctx.settings.host.partition(':')[0]}"
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((instance_name or ctx.settings.instance_name, sender))
    message["To"] = to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # A receiver (or a person) can tell a mail sent twice after a crash by its id.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        if any(ch in name + value for ch in "\r\n"):
            raise ValueError(f"a header value must be one line: {name}")
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    # After the parts: making the message multipart moves Content-* headers into them.
    message["Content-Language"] = lang
    return message


async def enqueue_mail(conn: Any, ctx: Context, *, to: str, template: str, lang: str,
                       values: Mapping[str, Any],
                       headers: Mapping[str, str] | None = None) -> None:
    """Render the mail and queue it in the caller's transaction: it is sent after the
    commit (by a worker, retried while the mail server is away), or not at all when the
    transaction rolls back."""
    name = await instance_settings_store.instance_name(conn)
    mail = render_mail(ctx, template, lang, values, instance_name=name)
    message = build_message(ctx, to=to, mail=mail, lang=lang if lang in LANGUAGES
                            else DEFAULT_LANGUAGE, headers=headers, instance_name=name)
    await mail_store.enqueue(conn, recipient=to, subject=mail.subject,
                             message=message.as_bytes())


def first_link(text: str) -> str | None:
    """The first http(s) link of a mail's text (logged in development)."""
    found = _LINK.search(text)
    return found.group(0).rstrip(".,;)") if found else None
