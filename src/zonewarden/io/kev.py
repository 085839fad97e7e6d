"""CISA's Known Exploited Vulnerabilities (KEV) catalog: read, validate, look up.

Input is the catalog's JSON (``known_exploited_vulnerabilities.json``, schema in the same
folder on CISA's site). Every problem is collected with a JSON pointer and raised together as
one :class:`KevError`, so a damaged download is reported in full, not entry by entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from pydantic import Field

from zonewarden.domain.common import Model, ShortText, Text
from zonewarden.errors import InputError, Problem

CVE_PATTERN = re.compile(r"^CVE-\d{4}-\d{4,19}$")


class KevError(InputError):
    """The KEV catalog could not be read or is invalid."""


class RansomwareUse(StrEnum):
    """``knownRansomwareCampaignUse``: CISA says ``Known`` or ``Unknown`` (not confirmed)."""

    KNOWN = "known"
    UNKNOWN = "unknown"


class KevEntry(Model):
    cve: ShortText = Field(pattern=CVE_PATTERN.pattern)
    vendor: Text
    product: Text
    name: Text = ""
    date_added: dt.date
    due_date: dt.date | None = None
    ransomware: RansomwareUse = RansomwareUse.UNKNOWN
    required_action: Text = ""
    cwes: tuple[ShortText, ...] = ()


class KevCatalog(Model):
    version: ShortText
    released: dt.datetime
    entries: tuple[KevEntry, ...]
    """Sorted by CVE id."""

    def model_post_init(self, _context: Any) -> None:
        object.__setattr__(self, "_by_cve", {e.cve: e for e in self.entries})

    @property
    def cves(self) -> frozenset[str]:
        return frozenset(self._by_cve)  # type: ignore[attr-defined]

    def get(self, cve: str) -> KevEntry | None:
        return self._by_cve.get(cve.strip().upper())  # type: ignore[attr-defined,no-any-return]

    def __contains__(self, cve: object) -> bool:
        return isinstance(cve, str) and cve.strip().upper() in self._by_cve  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[KevEntry]:  # type: ignore[override]
        return iter(self.entries)


_REQUIRED = ("cveID", "vendorProject", "product", "dateAdded")


def _date(value: Any, path: tuple[str | int, ...], problems: list[Problem], source: str | None) -> dt.date | None:
    if not isinstance(value, str):
        problems.append(Problem(f"expected a date YYYY-MM-DD, got {type(value).__name__}", path, file=source))
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(f"{value!r} is not a date YYYY-MM-DD", path, file=source))
        return None


def parse_kev(data: bytes | str | Mapping[str, Any], *, source: str | None = None) -> KevCatalog:
    """Parse and validate a KEV catalog; raise :class:`KevError` listing every problem."""
    where = source or "<input>"
    if isinstance(data, (bytes, str)):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise KevError(f"{where}: not JSON: {exc}", [Problem(f"not JSON: {exc}", file=source)]) from exc
    if not isinstance(data, Mapping):
        raise KevError(f"{where}: the catalog must be a JSON object", [Problem("expected an object", file=source)])
    problems: list[Problem] = []
    for key in ("catalogVersion", "dateReleased", "vulnerabilities"):
        if key not in data:
            problems.append(Problem(f"required field {key!r} is missing", (key,), file=source))
    vulns = data.get("vulnerabilities")
    if "vulnerabilities" in data and not isinstance(vulns, list):
        problems.append(Problem("must be a list", ("vulnerabilities",), file=source))
        vulns = []
    released: dt.datetime | None = None
    if isinstance(data.get("dateReleased"), str):
        try:
            released = dt.datetime.fromisoformat(data["dateReleased"].replace("Z", "+00:00"))
        except ValueError:
            problems.append(Problem(f"{data['dateReleased']!r} is not a date-time", ("dateReleased",), file=source))
    entries: dict[str, KevEntry] = {}
    for i, v in enumerate(vulns or []):
        base: tuple[str | int, ...] = ("vulnerabilities", i)
        if not isinstance(v, Mapping):
            problems.append(Problem("each vulnerability must be an object", base, file=source))
            continue
        missing = [k for k in _REQUIRED if not str(v.get(k) or "").strip() or not isinstance(v.get(k), str)]
        for k in missing:
            problems.append(Problem(f"required field {k!r} is missing or empty", (*base, k), file=source))
        if missing:
            continue
        cve = v["cveID"].strip().upper()
        if not CVE_PATTERN.match(cve):
            problems.append(Problem(f"{v['cveID']!r} is not a CVE id (CVE-YYYY-NNNN)", (*base, "cveID"), file=source))
            continue
        if cve in entries:
            problems.append(Problem(f"{cve} is listed twice", (*base, "cveID"), file=source))
            continue
        added = _date(v["dateAdded"], (*base, "dateAdded"), problems, source)
        due = _date(v["dueDate"], (*base, "dueDate"), problems, source) if v.get("dueDate") is not None else None
        ransom_raw = str(v.get("knownRansomwareCampaignUse") or "Unknown").strip().lower()
        if ransom_raw not in ("known", "unknown"):
            problems.append(
                Problem(f"knownRansomwareCampaignUse must be 'Known' or 'Unknown', got {ransom_raw!r}",
                        (*base, "knownRansomwareCampaignUse"), file=source)
            )
            continue
        if added is None:
            continue
        cwes = v.get("cwes") or ()
        entries[cve] = KevEntry(
            cve=cve,
            vendor=v["vendorProject"].strip(),
            product=v["product"].strip(),
            name=str(v.get("vulnerabilityName") or "").strip(),
            date_added=added,
            due_date=due,
            ransomware=RansomwareUse(ransom_raw),
            required_action=str(v.get("requiredAction") or "").strip(),
            cwes=tuple(str(c) for c in cwes) if isinstance(cwes, list) else (),
        )
    count = data.get("count")
    if isinstance(count, int) and isinstance(vulns, list) and count != len(vulns):
        problems.append(
            Problem(f"count says {count} but the catalog lists {len(vulns)} vulnerabilities (truncated download?)",
                    ("count",), file=source)
        )
    if problems:
        raise KevError(f"{where}: invalid KEV catalog ({len(problems)} problem(s))", problems)
    assert released is not None
    return KevCatalog(
        version=str(data["catalogVersion"]),
        released=released,
        entries=tuple(sorted(entries.values(), key=lambda e: e.cve)),
    )


def load_kev(path: str | Path) -> KevCatalog:
    """Read a KEV catalog file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise KevError(f"{p}: cannot read: {exc.strerror}", [Problem(f"cannot read: {exc.strerror}", file=str(p))]) from exc
    return parse_kev(raw, source=str(p))


__all__ = ["KevCatalog", "KevEntry", "KevError", "RansomwareUse", "load_kev", "parse_kev"]
