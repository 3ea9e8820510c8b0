"""The instance's statistics for everyone (issue 18): the page /statistik (an accessible
table, German first) and its CSV export /statistik.csv, from fedi/forum/statistics.py (the
same counts as GET /api/v1/statistics and NodeInfo)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from fedi.core import i18n
from fedi.forum import statistics
from fedi.web.common import ctx_of, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import language, page

# The column headings of the table and the CSV, in statistics.COUNT_COLUMNS' order.
LABELS = {
    "threads": N_("Threads"),
    "replies": N_("Replies"),
    "questions": N_("Questions"),
    "questions_solved": N_("Questions solved"),
    "events_upcoming": N_("Upcoming events"),
    "events_past": N_("Past events"),
    "remote_followers": N_("Followers from other servers"),
}
CSV_PATH = "/statistik.csv"


async def _collect(request: Request) -> statistics.Statistics:
    async with ctx_of(request).pool.acquire() as conn:
        return await statistics.collect(conn, datetime.now(UTC))


@web_endpoint
async def statistics_page(request: Request) -> Response:
    counts = await _collect(request)
    columns = [(name, LABELS[name]) for name in statistics.COUNT_COLUMNS]
    return await page(request, "statistics.html", {
        "stats": counts, "columns": columns, "active_days": statistics.ACTIVE_DAYS,
        "csv_path": CSV_PATH})


def csv_text(counts: statistics.Statistics, lang: str) -> str:
    """One row per group and a total row; semicolons, as German spreadsheets expect. The
    accounts are the instance's, so only the total row has them."""
    def t(message: str) -> str:
        return i18n.gettext(lang, message)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([t("Group"), t("Address"),
                     *(t(LABELS[name]) for name in statistics.COUNT_COLUMNS),
                     t("Accounts"), t("Active accounts (30 days)")])
    for group in counts.groups:
        writer.writerow([group.name or group.username, group.username,
                         *counts.counts(group), "", ""])
    writer.writerow([t("Total"), "", *counts.counts(counts.totals), counts.accounts,
                     counts.active_month])
    return out.getvalue()


@web_endpoint
async def statistics_csv(request: Request) -> Response:
    counts = await _collect(request)
    lang = language(request)
    day = counts.generated_at.date().isoformat()
    # The byte order mark makes Excel read UTF-8 (umlauts) instead of Windows-1252.
    body = "\ufeff" + csv_text(counts, lang)
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="statistik-{day}.csv"',
        "Cache-Control": "no-store"})
