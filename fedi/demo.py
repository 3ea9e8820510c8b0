"""Demo content for a first start: an admin account, topic groups, a welcome thread.

Seeded once (remembered in ``instance_settings``); the admin's generated password is
printed once and never stored in clear. ``FEDI_DEMO=0`` turns this off.
"""

from __future__ import annotations

import secrets

import httpx

from fedi.core.config import Settings
from fedi.core.context import Context
from fedi.forum.accounts import create_account
from fedi.forum.groups import create_group
from fedi.forum.posts import create_thread
from storage import accounts as account_store
from storage import actors as actor_store
from storage import create_pool

SEEDED_KEY = "demo_seeded"

WELCOME_TITLE = "Willkommen im Forum!"
WELCOME_BODY = """\
Hier tauschen sich Verwaltungen, Bürgermeisterinnen und Bürgermeister, Unternehmen und
Bürgerinnen und Bürger über die **Digitalisierung** aus: Breitbandplanung, Fördermittel,
Verfahren.

- Stellen Sie Fragen, antworten Sie anderen, teilen Sie Lösungen.
- Sie können dieser Gruppe auch aus dem Fediverse folgen, zum Beispiel von Mastodon aus.

Viel Erfolg beim #Glasfaser-Ausbau!
"""

GROUPS = [
    ("breitband", "Breitbandausbau",
     "Planung, Ausschreibung und Bau von Glasfaser- und Mobilfunknetzen."),
    ("foerdermittel", "Fördermittel",
     "Förderprogramme von Bund und Ländern: Anträge, Fristen, Erfahrungen."),
]


async def seed_demo(settings: Settings, dsn: str) -> None:
    """Seed once; later starts find the marker and do nothing."""
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with httpx.AsyncClient() as http:
            ctx = Context(settings=settings, pool=pool, http=http)
            async with pool.acquire() as conn:
                if await account_store.get_setting(conn, SEEDED_KEY):
                    return
                if await account_store.count(conn) > 0:
                    # Accounts made by hand before the first start: leave the instance alone.
                    await account_store.set_setting(conn, SEEDED_KEY, {"skipped": True})
                    return
                password = secrets.token_urlsafe(12)
                account = await create_account(
                    conn, ctx, username="verwaltung", email="admin@example.invalid",
                    password=password, display_name="Administration", role="admin",
                )
                admin = await actor_store.get(conn, account.actor_id)
            assert admin is not None
            groups = [
                await create_group(ctx, None, name=name, title=title, summary=summary,
                                   moderators=[admin])
                for name, title, summary in GROUPS
            ]
            await create_thread(ctx, author=admin, group=groups[0], title=WELCOME_TITLE,
                                content=WELCOME_BODY)
            async with pool.acquire() as conn:
                await account_store.set_setting(conn, SEEDED_KEY, {"admin": "verwaltung"})
    finally:
        await pool.close()
    print(
        "\nDemo content created. Log in as the administrator:\n"
        f"  user:     verwaltung\n  password: {password}\n"
        "(shown only this once; set FEDI_DEMO=0 to start without demo content)\n",
        flush=True,
    )
