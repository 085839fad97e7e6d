"""Shared pieces of the CLI: options, output formats, error → exit-code mapping.

Exit codes (documented in docs/commands.md and ``zonewarden --help``): 0 ok, 1 findings at or
over the threshold (or something overdue, a broken audit chain, a source that could not be
reached), 2 bad input or usage, 3 database problem, 4 installation problem (packaged data or a
needed tool such as Graphviz), 5 output refused by a safety check (a zonewarden bug), 70 an
unexpected error (a zonewarden bug; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from zonewarden.errors import (
    AuditChainError,
    ConflictError,
    InputError,
    InstallationError,
    NotFoundError,
    OutputRefused,
    PermissionDenied,
    SourceUnavailable,
    StoreError,
    ZonewardenError,
)

if TYPE_CHECKING:
    from zonewarden.services.database import Store
    from zonewarden.services.principal import Principal

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_STORE = 0, 1, 2, 3
EXIT_INSTALLATION, EXIT_REFUSED = 4, 5
EXIT_INTERNAL = 70
"""An unexpected exception: a zonewarden bug. Far from 1 so a crash cannot pass for a failed
check in CI (70 is EX_SOFTWARE of BSD sysexits)."""

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES: dict[type[ZonewardenError], int] = {
    InputError: EXIT_INPUT,
    NotFoundError: EXIT_INPUT,
    ConflictError: EXIT_INPUT,
    PermissionDenied: EXIT_INPUT,
    StoreError: EXIT_STORE,
    AuditChainError: EXIT_FINDINGS,
    SourceUnavailable: EXIT_FINDINGS,
    InstallationError: EXIT_INSTALLATION,
    OutputRefused: EXIT_REFUSED,
}
"""Every family of :mod:`zonewarden.errors` and its exit code. ``ZonewardenError`` itself is
deliberately absent: an error class outside every family is a bug (a test finds it) and exits
with :data:`EXIT_INTERNAL`, never with a code that means something about the user's plant."""


def exit_code_for(exc: ZonewardenError) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_INTERNAL


_PASS_THROUGH = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)
"""Click's own usage errors and exits: click prints them and picks the code (2 for usage)."""


def debug_enabled() -> bool:
    """``zonewarden --debug`` (or ``ZONEWARDEN_DEBUG=1``): show tracebacks of unexpected errors."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().params.get("debug"):
        return True
    return os.environ.get("ZONEWARDEN_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def _internal_text(exc: Exception) -> str:
    """The text of an unexpected exception for the one-line message. A database error's text
    carries the statement's parameters and the driver's DETAIL (``Key (name)=(value)``), which can
    be sensitive values: only its driver class is shown (``--debug`` prints the traceback)."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        kind = type(orig).__name__ if orig is not None else type(exc).__name__
        return f"database error {kind} (its text, which may quote stored values, is withheld)"
    return str(exc)


def handle_errors(func: F) -> F:
    """Turn domain errors into a message on stderr and a documented exit code; an unexpected
    exception becomes one line and exit code 70 (the traceback with ``--debug``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZonewardenError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exit_code_for(exc))
        except _PASS_THROUGH:
            raise
        except Exception as exc:
            if debug_enabled():
                traceback.print_exc(file=sys.stderr)
            where = ""
            tb = traceback.extract_tb(exc.__traceback__)
            if tb:
                where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}"
            text = safe_text(_internal_text(exc), one_line=True)
            click.echo(
                f"internal error: {type(exc).__name__}{where}: {text} (a zonewarden bug; run again with "
                "--debug for the traceback and report it)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

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


def signing_options(func: F) -> F:
    """Options of a command whose approval is an electronic signature (with user accounts)."""
    func = click.option("--meaning", default=None, metavar="TEXT",
                        help="What your signature means (default: 'approved as <your approver role>').")(func)
    func = click.option("--totp", "totp", default=None, metavar="CODE",
                        help="The current code of your second factor, if your account has one.")(func)
    return click.option("--password-stdin", "password_stdin", is_flag=True,
                        help="Read your password (to sign) from standard input instead of a prompt.")(func)


def as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="DATE",
        help="Evaluate as of this date (YYYY-MM-DD, in the site's time zone) instead of today where the "
        "site is; makes output reproducible.",
    )(func)


def parse_as_of(value: str | None, timezone: str | None) -> dt.date:
    """The date from ``--as-of``, or today, both where the site is (``timezone`` is the site's
    ``site.timezone``; UTC when it has none): see :mod:`zonewarden.clock`."""
    from zonewarden.clock import site_today

    try:
        return site_today(timezone, value)
    except InputError:
        raise InputError(
            f"--as-of {value!r} is not a date; write it as YYYY-MM-DD (or an ISO date-time with offset)"
        ) from None


def open_store_for(db_url: str | None) -> Store:
    """The database at ``--db`` (the CLI reaches it through the services, never the store)."""
    from zonewarden.services.database import open_store

    return open_store(db_url)


def caller(db_url: str | None) -> tuple[Store, Principal]:
    """The database and who runs the command (:func:`zonewarden.cli.identity.current_principal`),
    for a service call (a query or a write: the services authorize it)."""
    from zonewarden.cli.identity import current_principal

    store = open_store_for(db_url)
    return store, current_principal(store)


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


def read_records(file: Path, section: str, model: Any) -> list[Any]:
    """Records of ``model`` from a YAML file holding one mapping, a list, or ``section: [...]``
    (the project's safe YAML reader); every problem is reported with file, line and column before
    anything is written. The field paths are :func:`zonewarden.io.sitefile.parse_record`'s, the
    one pydantic -> InputError conversion the API uses too."""
    from zonewarden.errors import InputError, Problem
    from zonewarden.io import yamlio
    from zonewarden.io.sitefile import parse_record
    from zonewarden.wording import count

    data = yamlio.load_file(file)
    if isinstance(data, dict) and section in data:
        data = data[section]
    items = data if isinstance(data, list) else [data]
    out, problems = [], []
    text: str | None = None
    for i, item in enumerate(items):
        try:
            out.append(parse_record(model, item, section, at=(i,) if isinstance(data, list) else ()))
        except InputError as exc:
            text = text if text is not None else file.read_text(encoding="utf-8")
            for p in exc.problems:
                pos = yamlio.locate(text, p.path)
                problems.append(Problem(p.message, p.path, str(file), *(pos or (None, None))))
    if problems:
        raise InputError(f"{file}: {count(len(problems), 'problem')}; nothing was recorded", problems)
    return out


def record_places(file: Path, section: str, n: int) -> list[str | None]:
    """``file:line`` of each of the ``n`` records :func:`read_records` read from ``file`` (same
    layouts: one mapping, a list, or ``section: [...]``), for errors that name the record a
    write refused."""
    from zonewarden.io import yamlio

    data = yamlio.load_file(file)
    text = file.read_text(encoding="utf-8")
    prefix: tuple[str | int, ...] = (section,) if isinstance(data, dict) and section in data else ()
    items = data[section] if prefix else data
    out: list[str | None] = []
    for i in range(n):
        pos = yamlio.locate(text, (*prefix, i) if isinstance(items, list) else prefix)
        out.append(f"{file}:{pos[0]}" if pos else f"{file}: record {i + 1}")
    return out
