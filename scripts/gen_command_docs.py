"""Write docs/commands.md from the commands' own help texts, so the reference cannot drift.

    .venv/bin/python scripts/gen_command_docs.py          # rewrite docs/commands.md
    .venv/bin/python scripts/gen_command_docs.py --check  # exit 1 if it is out of date (a test runs this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from zonewarden.cli.main import cli

DOC = Path(__file__).resolve().parents[1] / "docs" / "commands.md"

INTRO = """\
# Command reference

Generated from the commands' help texts by `scripts/gen_command_docs.py`; a test fails when this
page and the code disagree. Each command's help (`zonewarden COMMAND --help`) says the same.

## Conventions

- **Database**: `--db URL` or `ZONEWARDEN_DB`; default `./zonewarden.db` (SQLite). PostgreSQL:
  `ZONEWARDEN_DB=postgresql+psycopg://user:password@host/dbname`. The schema is created and
  migrated automatically.
- **Site**: `--site SITE` when the database holds several sites; commands that analyse a site
  also take `--file PATH` to work on a site file or directory without a database.
- **Who**: every write is recorded in the audit log with the actor from `ZONEWARDEN_ACTOR`
  (default: the operating-system user) and the `--reason` given.
- **Output**: data on stdout (`--format table|json|csv`, and `sarif` for `check`), messages on
  stderr. `--as-of YYYY-MM-DD` evaluates dates as of that day, for reproducible output. A table
  of more than 500 rows prints as plain aligned text (fast, and easy to `grep`); in every table
  and message, control characters from untrusted text (advisory titles, asset notes) print as
  the replacement character U+FFFD, so they cannot drive the terminal.
- **Exit codes** (one per family of errors in `zonewarden/errors.py`; a test checks every error
  class has one): 0 ok; 1 findings at or over the threshold (`--fail-on`, `--fail-on-gap`),
  something overdue, a broken audit chain, or a source that could not be reached (try again
  later); 2 bad input or usage (the message says which file, line and field); 3 database
  problem; 4 installation problem (broken packaged catalog data, Graphviz missing); 5 output
  refused by a safety check (a sensitive value in a customer package, wording the evidence
  cannot back; nothing was written; a zonewarden bug to report); 70 an unexpected error (a
  zonewarden bug: one line on stderr, `zonewarden --debug ...` or `ZONEWARDEN_DEBUG=1` prints
  the traceback).
"""


def commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in sorted(cli.commands.items()):
        if isinstance(cmd, click.Group):
            out.append((name, cmd))
            out += [(f"{name} {sub}", c) for sub, c in sorted(cmd.commands.items())]
        else:
            out.append((name, cmd))
    return out


def render() -> str:
    runner = CliRunner()
    parts = [INTRO]
    for name, _ in commands():
        result = runner.invoke(cli, [*name.split(), "--help"], terminal_width=100)
        parts.append(f"\n## zonewarden {name}\n\n```text\n{result.output.rstrip()}\n```\n")
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/commands.md is out of date: run .venv/bin/python scripts/gen_command_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
