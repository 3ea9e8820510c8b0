"""What a Reject says (Follow, Join, posts): the reason in the language of the actor
that rejects (a group's language when we have a catalog for it, else the instance's
default language), with the English sentence beside it in ``contentMap`` and
``summaryMap``, so software that reads one language picks it (issue 20, part 6).
fedi/inbound/common.py (queue_reject) and fedi/forum/events.py (a Join's Reject) use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fedi.core.i18n import LANGUAGES, gettext
from fedi.forum import instance_settings
from storage import groups as group_store
from storage.actors import Actor

__all__ = ["reject_fields", "reject_language", "translated"]


async def reject_language(conn: Any, sender: Actor) -> str:
    """The language a Reject of ``sender`` speaks: a group's language when we have a
    catalog for it, else the instance's default language."""
    if sender.type == "Group":
        details = await group_store.get(conn, sender.id)
        lang = (details.language or "").split("-")[0].lower() if details else ""
        if lang in LANGUAGES:
            return lang
    return (await instance_settings.current(conn)).default_language


async def reject_fields(conn: Any, sender: Actor, text_in: Callable[[str], str]
                        ) -> dict[str, Any]:
    """``summary``/``content`` in ``sender``'s language and both languages in the maps;
    ``text_in(lang)`` is the sentence in a language (``Refusal.text``, or
    :func:`translated` of a catalog message)."""
    lang = await reject_language(conn, sender)
    text = text_in(lang)
    texts = {lang: text, "en": text_in("en")}
    return {"summary": text, "content": text, "summaryMap": texts, "contentMap": texts}


def translated(message: str) -> Callable[[str], str]:
    """A catalog message (English msgid) in a language."""
    return lambda lang: gettext(lang, message)
