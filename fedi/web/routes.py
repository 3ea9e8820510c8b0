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
    email_pages,
    feeds,
    moderation_pages,
    modlog_page,
    pages,
    post_pages,
    privacy_pages,
    profile_pages,
    report_pages,
    settings_pages,
    terms_pages,
)

STATIC = Path(__file__).resolve().parent / "static"

routes: list[BaseRoute] = [
    Route("/", pages.start, methods=["GET", "HEAD"]),
    Route("/search", pages.search, methods=["GET", "HEAD"]),
    Route("/g/{ref}", pages.group_by_ref, methods=["GET", "HEAD"]),
    Route("/u/{ref}", profile_pages.person_by_ref, methods=["GET", "HEAD"]),
    Route("/signup", account_pages.signup_form, methods=["GET", "HEAD"]),
    Route("/signup", account_pages.signup, methods=["POST"]),
    Route("/login", account_pages.login_form, methods=["GET", "HEAD"]),
    Route("/login", account_pages.login, methods=["POST"]),
    Route("/logout", account_pages.logout_form, methods=["GET", "HEAD"]),
    Route("/logout", account_pages.logout, methods=["POST"]),
    Route("/language/{lang}", account_pages.switch_language, methods=["GET"]),
    # What arrives by mail (issue 13); /confirm/resend before /confirm/{token}.
    Route("/confirm", email_pages.confirmation_status, methods=["GET", "HEAD"]),
    Route("/confirm/resend", email_pages.resend, methods=["POST"]),
    Route("/confirm/{token}", email_pages.confirm_form, methods=["GET", "HEAD"]),
    Route("/confirm/{token}", email_pages.confirm, methods=["POST"]),
    Route("/forgot", email_pages.forgot_form, methods=["GET", "HEAD"]),
    Route("/forgot", email_pages.forgot, methods=["POST"]),
    Route("/reset/{token}", email_pages.reset_form, methods=["GET", "HEAD"]),
    Route("/reset/{token}", email_pages.reset, methods=["POST"]),
    # "Ihre Daten": export and account deletion (DSGVO Art. 15, 17, 20).
    Route("/settings/privacy", privacy_pages.privacy, methods=["GET", "HEAD"]),
    Route("/settings/privacy/export", privacy_pages.export, methods=["POST"]),
    Route("/settings/privacy/delete", privacy_pages.delete_account, methods=["POST"]),
    Route("/settings", settings_pages.settings, methods=["GET", "HEAD"]),
    Route("/settings/profile", settings_pages.save_profile, methods=["POST"]),
    Route("/settings/password", settings_pages.change_password, methods=["POST"]),
    Route("/settings/sessions/end", settings_pages.log_out_everywhere, methods=["POST"]),
    Route("/settings/email", settings_pages.change_email, methods=["POST"]),
    Route("/email/confirm/{token}", settings_pages.confirm_email_form, methods=["GET", "HEAD"]),
    Route("/email/confirm/{token}", settings_pages.confirm_email, methods=["POST"]),
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
    Route("/admin/terms", terms_pages.admin_form, methods=["GET", "HEAD"]),
    Route("/admin/terms", terms_pages.admin_publish, methods=["POST"]),
    # Everyone.
    Route("/modlog", modlog_page.modlog, methods=["GET", "HEAD"]),
    Route("/nutzungsbedingungen", terms_pages.terms_of_use, methods=["GET", "HEAD"]),
    Route("/datenschutz", terms_pages.privacy_policy, methods=["GET", "HEAD"]),
    Route("/zustimmen", terms_pages.accept_form, methods=["GET", "HEAD"]),
    Route("/zustimmen", terms_pages.accept, methods=["POST"]),
    Route("/favicon.ico", assets.favicon, methods=["GET", "HEAD"]),
    Route("/favicon.svg", assets.favicon, methods=["GET", "HEAD"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
]
