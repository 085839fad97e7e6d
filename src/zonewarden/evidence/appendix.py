"""Appendix files of an evidence package: a table too long for the PDF, as CSV.

A section whose table would exceed its row limit keeps a summary in the PDF (counts, the rows
that matter) and hands the whole table over as a CSV file of the package: listed and hashed in
``manifest.json`` and ``SHA256SUMS`` like every file, and named in the PDF with its letter,
rows and SHA-256 ("Appendix A: asset register, 10000 rows, file asset-register.csv, sha256 ...").

* Redaction: a section only ever sees the audience's redacted document, so its appendix holds
  what its table would have shown, no more; for a customer package the builder also runs the
  leak guard over every appendix file.
* Spreadsheets: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  gets a leading apostrophe, so a spreadsheet shows it as text instead of running it as a
  formula (CSV injection).
* Reproducible: rows in the section's order, CRLF line ends (RFC 4180), UTF-8 without BOM, no clock:
  the same input gives the same bytes.

Letters (A, B, ...) follow the order of the sections in the package; the builder assigns them
(:func:`assign_letters`) after every section is built. A section with more than one appendix file
lists their descriptors in ``data["appendices"]`` (lettered in that order); a file other than a
table (the full architecture diagram as SVG: :func:`file_appendix`) has no rows or columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import string
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts that a spreadsheet may read as a formula (OWASP, CSV injection)."""


def cell(value: Any) -> str:
    """One CSV cell as text: ``None`` is empty, lists are joined by spaces, and a value a
    spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        text = ""
    elif isinstance(value, list | tuple):
        text = " ".join("" if v is None else str(v) for v in value)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The table as CSV (header row first), every cell through :func:`cell`."""
    buf = io.StringIO()
    # RFC 4180 line ends: the writer then also quotes a cell holding a lone CR or LF
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([cell(c) for c in columns])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def csv_appendix(file: str, title: str, columns: Sequence[str],
                 rows: Sequence[Sequence[Any]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The descriptor a section puts in its data (``data["appendix"]``) and the file it adds
    to the package (``SectionData.files``)."""
    data = csv_bytes(columns, rows)
    descriptor = {
        "letter": None,  # set by assign_letters
        "title": title,
        "file": file,
        "format": "csv",
        "rows": len(rows),
        "columns": list(columns),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return descriptor, {file: data}


def file_appendix(file: str, title: str, data: bytes, fmt: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Like :func:`csv_appendix` for a file that is not a table (``fmt``: ``svg``)."""
    descriptor: dict[str, Any] = {
        "letter": None,  # set by assign_letters
        "title": title,
        "file": file,
        "format": fmt,
        "rows": None,
        "columns": [],
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return descriptor, {file: data}


def descriptors(section: Any) -> list[dict[str, Any]]:
    """The appendix descriptors of one section, in its order: ``data["appendix"]`` and then
    each of ``data["appendices"]``."""
    found: list[dict[str, Any]] = []
    one = section.data.get("appendix")
    if isinstance(one, dict):
        found.append(one)
    for d in section.data.get("appendices") or ():
        if isinstance(d, dict):
            found.append(d)
    return found


def assign_letters(sections: Iterable[Any]) -> list[dict[str, Any]]:
    """Give each section's appendices (:func:`descriptors`) their letters, in package order;
    returns the descriptors in that order."""
    found: list[dict[str, Any]] = []
    letters = string.ascii_uppercase
    for section in sections:
        for descriptor in descriptors(section):
            n = len(found)
            descriptor["letter"] = letters[n] if n < len(letters) else f"{letters[n // 26 - 1]}{letters[n % 26]}"
            found.append(descriptor)
    return found


def note(descriptor: dict[str, Any]) -> str:
    """The manifest's note on an appendix file."""
    if descriptor["format"] != "csv":
        return f"Appendix {descriptor['letter']}: {descriptor['title']} ({descriptor['format'].upper()})"
    return (f"Appendix {descriptor['letter']}: {descriptor['title']}, {descriptor['rows']} rows "
            f"(CSV, UTF-8, header row; cells that would start with = + - @ tab or CR carry a leading apostrophe)")


__all__ = ["FORMULA_STARTS", "assign_letters", "cell", "csv_appendix", "csv_bytes", "descriptors", "file_appendix", "note"]
