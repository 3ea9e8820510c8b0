"""Search the whole database for traces of a person: every column of every table that can
hold text (text, varchar, json, jsonb, arrays of text, bytea), found through
information_schema, so a table added by a later migration is searched too."""

from __future__ import annotations

from typing import Any

# Column types that can carry a string; a tsvector is derived from columns searched anyway.
_TEXTUAL = ("text", "character varying", "character", "json", "jsonb", "ARRAY", "bytea")


async def textual_columns(conn: Any) -> list[tuple[str, str, str]]:
    """(table, column, data type) of every textual column of every base table."""
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
        "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
        " WHERE c.table_schema = current_schema() AND c.data_type = ANY ($1::text[])"
        " ORDER BY 1, 2", list(_TEXTUAL))
    return [(r["table_name"], r["column_name"], r["data_type"]) for r in rows]


async def tables(conn: Any) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema ="
        " current_schema() AND table_type = 'BASE TABLE' ORDER BY 1")
    return [r["table_name"] for r in rows]


async def find_traces(conn: Any, needles: dict[str, str | bytes]) -> list[str]:
    """Where each needle (a label -> a string, or bytes for bytea columns) occurs, as
    ``label in table.column`` lines; [] when none does."""
    found: list[str] = []
    for table, column, data_type in await textual_columns(conn):
        for label, needle in needles.items():
            if data_type == "bytea":
                raw = needle if isinstance(needle, bytes) else needle.encode()
                hit = await conn.fetchval(
                    f'SELECT count(*) FROM "{table}" WHERE position($1::bytea IN "{column}")'
                    " > 0", raw)
            elif isinstance(needle, str):
                hit = await conn.fetchval(
                    f'SELECT count(*) FROM "{table}" WHERE strpos(lower("{column}"::text),'
                    " lower($1)) > 0", needle)
            else:
                continue
            if hit:
                found.append(f"{label} in {table}.{column} ({hit} rows)")
    return found
