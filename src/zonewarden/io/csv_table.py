"""What every CSV reader of zonewarden does before it looks at a cell: strict decoding, the
dialect (``,`` ``;`` or tab), the header row, and the data rows with their line numbers.

Shared by the asset reader (io/assets_csv.py) and the requirement-status reader
(io/requirements_csv.py) so that both report an empty file, an unreadable header, a row of the
wrong width and an unreadable row in the same words and at the same place.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from zonewarden.errors import Problem, SiteFileError

MAX_ROWS = 1_000_000


def norm(text: str) -> str:
    """A column name (or a value) as compared: case, spaces and punctuation do not matter."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def decode(raw: bytes, name: str, encoding: str | None) -> str:
    """The text of ``raw``: UTF-8 (a BOM is dropped) unless ``encoding`` names another codec.
    Bytes not valid in it are an error at their line and column: guessing another encoding would
    silently turn names into mojibake."""
    codec = encoding or "utf-8-sig"
    try:
        codecs.lookup(codec)
    except LookupError:
        raise SiteFileError(f"unknown text encoding {encoding!r} (e.g. utf-8, cp1252, latin-1)") from None
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        what = "UTF-8" if encoding is None else encoding
        hint = ("save it as UTF-8, or name its encoding with --encoding (e.g. cp1252)" if encoding is None
                else f"it is not {encoding} text")
        raise SiteFileError(f"{name} is not {what} text", [Problem(
            f"byte 0x{raw[exc.start]:02X} is not valid {what}: {hint}",
            file=name, line=line, column=column)]) from None


class Table:
    """A CSV file opened for reading: its header and a reader positioned after it."""

    def __init__(self, text: str, name: str, *, expected: str = "") -> None:
        self.name = name
        try:
            dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        self.reader = csv.reader(io.StringIO(text), dialect)
        try:
            self.header: list[str] = next(self.reader)
        except StopIteration:
            raise SiteFileError(f"{name} is empty: expected a header row{' (' + expected + ')' if expected else ''}") from None
        except csv.Error as exc:
            raise SiteFileError(f"cannot read the header row of {name}: {exc}",
                                [Problem(str(exc), file=name, line=1)]) from None

    def missing(self, present: Iterable[str], required: Iterable[str], why: Callable[[str], str]) -> list[Problem]:
        """A problem on the header line for each ``required`` field no column gives; ``why``
        words it for the field (which columns would do, how to map one)."""
        have = set(present)
        return [Problem(why(f), file=self.name, line=1) for f in required if f not in have]

    def rows(self, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) of each data row. Blank rows are skipped; a row whose width differs
        from the header's, or that the csv module cannot read (an over-long cell, an
        unterminated quote), is a positioned problem; an unreadable row ends the file."""
        n = 0
        while True:
            try:
                row = next(self.reader)
            except StopIteration:
                return
            except csv.Error as exc:
                problems.append(Problem(f"cannot read this row: {exc} (a cell over {csv.field_size_limit()} "
                                        "characters, or an unterminated quote)", file=self.name, line=self.reader.line_num))
                return
            line = self.reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            n += 1
            if n > MAX_ROWS:
                raise SiteFileError(f"{self.name} has more than {MAX_ROWS} rows")
            if len(row) != len(self.header):
                problems.append(Problem(f"row has {len(row)} cells, the header has {len(self.header)}",
                                        file=self.name, line=line))
                continue
            yield line, row


def open_table(raw: bytes, name: str, *, encoding: str | None = None, expected: str = "") -> Table:
    """Decode ``raw`` and read its header row; ``expected`` names the columns in the message for
    an empty file."""
    return Table(decode(raw, name, encoding), name, expected=expected)
