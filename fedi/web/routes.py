"""The web forum's route table (group, thread and profile pages come through
``fedi.routes.activitypub`` and :data:`fedi.web.pages.HTML_PAGES`)."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fedi.web import (
    account_pages,
    admin_pages,
    assets,
    ban_pages,
    feeds,
    moderation_pages,
    modlog_page,
    pages,
    post_pages,
    report_pages,
)

STATIC = Path(__file__).resolve().parent / "static"

routes: list[BaseRoute] = [
    Route("/", pages.start, methods=["GET", "HEAD"]),
    Route("/search", pages.search, methods=["GET", "HEAD"]),
    Route("/g/{ref}", pages.group_by_ref, methods=["GET", "HEAD"]),
    Route("/signup", account_pages.signup_form, methods=["GET", "HEAD"]),
    Route("/signup", account_pages.signup, methods=["POST"]),
    Route("/login", account_pages.login_form, methods=["GET", "HEAD"]),
    Route("/login", account_pages.login, methods=["POST"]),
    Route("/logout", account_pages.logout_form, methods=["GET", "HEAD"]),
    Route("/logout", account_pages.logout, methods=["POST"]),
    Route("/language/{lang}", account_pages.switch_language, methods=["GET"]),
    Route("/groups/{name}/new", post_pages.new_thread_form, methods=["GET", "HEAD"]),
    Route("/groups/{name}/new", post_pages.new_thread, methods=["POST"]),
    Route("/g/{ref}/new", post_pages.new_thread_form, methods=["GET", "HEAD"]),
    Route("/g/{ref}/new", post_pages.new_thread, methods=["POST"]),
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
    # Reports by anyone logged in.
    Route("/posts/{post_id:int}/report", report_pages.report_post_form, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/report", report_pages.report_post, methods=["POST"]),
    Route("/users/{name}/report", report_pages.report_person_form, methods=["GET", "HEAD"]),
    Route("/users/{name}/report", report_pages.report_person, methods=["POST"]),
    # Moderators of a group and admins.
    Route("/posts/{post_id:int}/moderate", moderation_pages.moderate_form,
          methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/moderate", moderation_pages.moderate, methods=["POST"]),
    Route("/mod/reports", moderation_pages.reports, methods=["GET", "HEAD"]),
    Route("/mod/reports/{report_id:int}/assign", moderation_pages.assign_report,
          methods=["POST"]),
    Route("/mod/reports/{report_id:int}/resolve", moderation_pages.resolve_report,
          methods=["POST"]),
    Route("/mod/ban", ban_pages.ban_form, methods=["GET", "HEAD"]),
    Route("/mod/ban", ban_pages.ban, methods=["POST"]),
    Route("/mod/bans", ban_pages.bans, methods=["GET", "HEAD"]),
    Route("/mod/bans/{ban_id:int}/lift", ban_pages.lift_ban, methods=["POST"]),
    # Admins.
    Route("/admin/domains", admin_pages.domains, methods=["GET", "HEAD"]),
    Route("/admin/domains", admin_pages.change_domain, methods=["POST"]),
    Route("/admin/instances", admin_pages.instances, methods=["GET", "HEAD"]),
    Route("/admin/instances/{domain}/reset", admin_pages.reset_instance, methods=["POST"]),
    Route("/admin/signups", admin_pages.signups, methods=["GET", "HEAD"]),
    Route("/admin/signups/{name}", admin_pages.decide_signup, methods=["POST"]),
    # Everyone.
    Route("/modlog", modlog_page.modlog, methods=["GET", "HEAD"]),
    Route("/favicon.ico", assets.favicon, methods=["GET", "HEAD"]),
    Route("/favicon.svg", assets.favicon, methods=["GET", "HEAD"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
]
