"""What changed between two versions of a site, and the scoped reassessments the change implies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.site import SiteDocument
from zonewarden.engines.sitediff import SiteDiff
from zonewarden.services.queries import day

DIFF_COLUMNS = ["section", "id", "change", "fields"]
TRIGGER_COLUMNS = ["trigger", "zones", "reason"]


def _show(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, slots=True)
class DiffResult:
    """The changes from ``old`` to ``new`` (names of the versions compared, e.g. their paths)."""

    old: str
    new: str
    old_site: str
    new_site: str
    as_of: dt.date
    diff: SiteDiff

    @property
    def same_site(self) -> bool:
        return self.old_site == self.new_site

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "as_of": self.as_of.isoformat(), **self.diff.as_dict()}

    def rows(self) -> list[dict[str, Any]]:
        """One row per changed record, its fields as ``field: old -> new`` (long values cut)."""
        return [
            {
                "section": c.section,
                "id": c.id,
                "change": c.kind.value,
                "fields": "; ".join(f"{f.field}: {_show(f.old)} -> {_show(f.new)}" for f in c.fields),
            }
            for c in self.diff.changes
        ]

    def trigger_rows(self) -> list[dict[str, Any]]:
        return [{"trigger": t.kind, "zones": ", ".join(t.zones), "reason": t.reason} for t in self.diff.triggers]


def diff_of(old_doc: SiteDocument, new_doc: SiteDocument, *, old: str, new: str,
            as_of: str | dt.date | None = None) -> DiffResult:
    """Compare two documents in hand; dates are the new version's site's."""
    from zonewarden.engines.sitediff import diff_sites

    today = day(new_doc.site.timezone, as_of)
    return DiffResult(old, new, old_doc.site.id, new_doc.site.id, today, diff_sites(old_doc, new_doc, as_of=today))
