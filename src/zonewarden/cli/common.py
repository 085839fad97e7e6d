"""Shared pieces of the CLI: options, output formats, error → exit-code mapping.

Exit codes (documented in docs/commands.md): 0 ok, 1 findings at or over the threshold (or
something overdue), 2 bad input or usage, 3 database/internal problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from zonewarden.errors import (
    AuditChainError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
    StoreError,
    ZonewardenError,
)

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_STORE = 0, 1, 2, 3

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES: dict[type[ZonewardenError], int] = {
    InputError: EXIT_INPUT,
    NotFoundError: EXIT_INPUT,
    ConflictError: EXIT_INPUT,
    PermissionDenied: EXIT_INPUT,
    StoreError: EXIT_STORE,
    AuditChainError: EXIT_FINDINGS,
    ZonewardenError: EXIT_STORE,
}


def exit_code_for(exc: ZonewardenError) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_STORE


def handle_errors(func: F) -> F:
    """Turn domain errors into a message on stderr and a documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZonewardenError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exit_code_for(exc))

    return wrapper  # type: ignore[return-value]


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_url",
        envvar="ZONEWARDEN_DB",
        default=None,
        metavar="URL",
        help="Database URL or SQLite path [env ZONEWARDEN_DB; default ./zonewarden.db].",
    )(func)


def site_option(func: F) -> F:
    return click.option(
        "--site", "site_id", default=None, metavar="SITE", help="Site id (needed when the database holds several)."
    )(func)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    def deco(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default=default,
            show_default=True,
            help="Output format.",
        )(func)

    return deco


def as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="DATE",
        help="Evaluate as of this date (YYYY-MM-DD) instead of today; makes output reproducible.",
    )(func)


def parse_as_of(value: str | None) -> dt.date:
    """A date from ``--as-of``: a date, or a date-time with offset converted to UTC's date."""
    if value is None:
        return dt.date.today()
    try:
        if "T" in value or " " in value:
            stamp = dt.datetime.fromisoformat(value)
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(dt.UTC)
            return stamp.date()
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of {value!r} is not a date; write it as YYYY-MM-DD") from None


def open_store_for(db_url: str | None):  # type: ignore[no-untyped-def]
    from zonewarden.store.db import open_store

    return open_store(db_url)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_plain(v)) for v in value)
    if value is None:
        return ""
    return value


def emit_json(data: Any) -> None:
    sys.stdout.buffer.write(
        orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS) + b"\n"
    )
    sys.stdout.flush()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ TAB or CR (a formula such as
    ``=HYPERLINK(...)`` or ``@SUM(...)``) gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def emit_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, *, title: str | None = None) -> None:
    """Rows as a table (stdout), JSON or CSV. Data goes to stdout, never messages."""
    if fmt == "json":
        emit_json(list(rows))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: csv_safe(_plain(row.get(c))) for c in columns})
        sys.stdout.write(buf.getvalue())
        return
    if len(rows) > RICH_TABLE_ROWS:
        _plain_table(rows, columns, title)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, expand=False)
    for col in columns:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        # Text objects are not markup: user text like "[red]" stays literal; control
        # characters (terminal escape sequences) are escaped by _cell.
        from rich.text import Text

        table.add_row(*(Text(_cell(row.get(c))) for c in columns))
    Console(width=None if sys.stdout.isatty() else 200, soft_wrap=False).print(table)


RICH_TABLE_ROWS = 500
"""Above this many rows a table is printed as plain aligned text: rich lays out every cell to
fit the terminal, which takes seconds for the thousands of findings of a large site."""

_PLAIN_WIDTH = 48
"""Columns but the last are padded to their widest value up to this; longer values stretch
their line rather than being cut (nothing is hidden)."""

# Untrusted text must not drive the terminal: control characters (escape sequences, bells,
# carriage returns) print as U+FFFD.
_CONTROL = {c: "\ufffd" for c in (*range(0x20), *range(0x7F, 0xA0))}
_ONE_LINE = _CONTROL | {ord("\n"): " ", ord("\t"): " "}
_LINES = _CONTROL | {ord("\n"): "\n", ord("\t"): "\t"}


def safe_text(value: Any, *, one_line: bool = False) -> str:
    """Untrusted text for the terminal, without control characters; ``one_line`` turns line
    breaks and tabs into spaces (table cells)."""
    if value is None:
        return ""
    return str(value).translate(_ONE_LINE if one_line else _LINES)


def _cell(value: Any) -> str:
    return safe_text(_plain(value), one_line=True)


def _plain_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None) -> None:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    headers = [c.replace("_", " ") for c in columns]
    widths = [min(max(len(h), *(len(r[i]) for r in cells)), _PLAIN_WIDTH) for i, h in enumerate(headers)]
    last = len(columns) - 1

    def line(values: Sequence[str]) -> str:
        return "  ".join(v if i == last else v.ljust(widths[i]) for i, v in enumerate(values)).rstrip()

    out = [title, ""] if title else []
    out.append(line(headers))
    out.append(line(["-" * w for w in widths[:last]] + ["-" * max(len(headers[last]), 8)]))
    out.extend(line(r) for r in cells)
    sys.stdout.write("\n".join(out) + "\n")


def note(message: str) -> None:
    """A message for the person at the terminal (stderr); messages quote untrusted text, so
    control characters are replaced (:func:`safe_text`)."""
    click.echo(safe_text(message), err=True)


def existing_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise InputError(f"{value} does not exist")
    return path


def iter_text(items: Iterable[Any]) -> list[str]:
    return [str(i) for i in items]
