"""The web forum's route table (group, thread and profile pages come through
``fedi.routes.activitypub`` and :data:`fedi.web.pages.HTML_PAGES`)."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fedi.web import account_pages, feeds, pages, post_pages

STATIC = Path(__file__).resolve().parent / "static"

routes: list[BaseRoute] = [
    Route("/", pages.start, methods=["GET", "HEAD"]),
    Route("/search", pages.search, methods=["GET", "HEAD"]),
    Route("/g/{ref}", pages.group_by_ref, methods=["GET", "HEAD"]),
    Route("/signup", account_pages.signup_form, methods=["GET", "HEAD"]),
    Route("/signup", account_pages.signup, methods=["POST"]),
    Route("/login", account_pages.login_form, methods=["GET", "HEAD"]),
    Route("/login", account_pages.login, methods=["POST"]),
    Route("/logout", account_pages.logout, methods=["POST"]),
    Route("/language/{lang}", account_pages.switch_language, methods=["GET"]),
    Route("/groups/{name}/new", post_pages.new_thread_form, methods=["GET", "HEAD"]),
    Route("/groups/{name}/new", post_pages.new_thread, methods=["POST"]),
    Route("/follow", post_pages.follow, methods=["POST"]),
    Route("/groups/{name}/feed.atom", feeds.group_feed, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/reply", post_pages.reply_form, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/reply", post_pages.reply, methods=["POST"]),
    Route("/posts/{post_id:int}/edit", post_pages.edit_form, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/edit", post_pages.edit, methods=["POST"]),
    Route("/posts/{post_id:int}/delete", post_pages.delete_form, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/delete", post_pages.delete, methods=["POST"]),
    Route("/posts/{post_id:int}/like", post_pages.like, methods=["POST"]),
    Route("/posts/{post_id:int}/feed.atom", feeds.thread_feed, methods=["GET", "HEAD"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
]
