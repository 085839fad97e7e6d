"""Gap queries: SL-T, SL-A, SL-C limit and gap per zone/conduit and FR (IEC 62443-3-3), the plain
words of one gap, and the ISO/IEC 27001:2022 Annex A coverage derived from the same statuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.levels import FR
from zonewarden.domain.site import SiteDocument
from zonewarden.engines.gap import AnnexCoverage, GapReport
from zonewarden.errors import InputError
from zonewarden.services.principal import Principal
from zonewarden.services.queries import day, site_of
from zonewarden.store.db import Store

GAP_COLUMNS = ["target", "kind", "fr", "sl_t", "sl_a", "sl_c", "gap", "limited_by", "missing_for_next_level"]
ISO_COLUMNS = ["control", "theme", "title", "coverage", "supporting", "met", "recorded", "mapping"]
"""``mapping``: each mapped requirement with its relation and the one-line reason for the pair
(``links`` holds the same as a list, in JSON)."""

NOT_ASSESSED = "not assessed (no requirement statuses)"
"""What a row says for a zone or conduit nobody has assessed, instead of every requirement."""


def _missing_words(states: Any) -> str:
    out = []
    for s in states:
        if s.status is None:
            out.append(f"{s.requirement} (no status)")
        elif s.compensating_control is not None:
            out.append(f"{s.requirement} (compensated by {s.compensating_control}, does not count)")
        elif s.target_date is not None:
            out.append(f"{s.requirement} ({s.status.value} {s.target_date})")
        else:
            out.append(f"{s.requirement} ({s.status.value})")
    return ", ".join(out)


def _state_json(s: Any) -> dict[str, Any]:
    return {
        "requirement": s.requirement,
        "name": s.name,
        "min_sl": s.min_sl,
        "status": s.status.value if s.status else None,
        "met": s.met,
        "reason": s.reason,
        "compensating_control": s.compensating_control,
        "target_date": s.target_date.isoformat() if s.target_date else None,
        "exception": s.exception,
        "inherited_from": s.inherited_from,
    }


@dataclass(frozen=True, slots=True)
class GapResult:
    """The gap of one site on one day, for the zones asked for (all when none)."""

    site_id: str
    site_name: str
    as_of: dt.date
    sl_scale: list[Any]
    """What each level is meant to resist at this site, so a reader can interpret the numbers."""
    report: GapReport
    zones: tuple[str, ...] = ()
    fr: FR | None = None
    only_gaps: bool = False

    @property
    def unassessed(self) -> list[str]:
        """Zones and conduits nobody has assessed: SL-A 0 on every FR; their rows stay (and
        count as gaps), marked not assessed instead of listing every requirement."""
        return [t.target for t in self.report.targets if not t.assessed]

    @property
    def expired(self) -> list[Any]:
        """Statuses of the shown targets relying on a compensating control that does not count."""
        shown = {t.target for t in self.report.targets}
        return [e for e in self.report.expired_compensations if e.target in shown]

    @property
    def overdue_controls(self) -> list[Any]:
        """Compensating controls past their review that the shown targets use (all of them when
        no zone was asked for)."""
        shown = {t.target for t in self.report.targets}
        return [c for c in self.report.controls
                if c.review_overdue and (not self.zones or any(t in shown for t, _ in c.used_by))]

    def rows(self) -> list[dict[str, Any]]:
        """One row per zone/conduit and FR, as ``zonewarden gap`` shows them."""
        rows = []
        for t in self.report.targets:
            for g in t.frs:
                if self.fr is not None and g.fr is not self.fr:
                    continue
                if self.only_gaps and not g.gap:
                    continue
                rows.append(
                    {
                        "target": t.target,
                        "kind": t.kind,
                        "fr": g.fr.value,
                        "sl_t": g.sl_target,
                        "sl_a": g.sl_achieved,
                        "sl_c": g.sl_capability,
                        "gap": g.gap,
                        "limited_by": list(g.limiting_assets) if g.capability_blocks_target else [],
                        "missing_for_next_level": _missing_words(g.missing_next) if t.assessed else NOT_ASSESSED,
                    }
                )
        return rows

    def as_dict(self) -> dict[str, Any]:
        """The full gap report (``zonewarden gap --format json``); ``only_gaps`` filters rows only."""
        report, fr = self.report, self.fr
        targets = []
        for t in report.targets:
            targets.append(
                {
                    "target": t.target,
                    "kind": t.kind,
                    "name": t.name,
                    "assessed": t.assessed,
                    "sl_target": t.sl_target.model_dump() if t.sl_target else None,
                    "sl_achieved": t.sl_achieved.model_dump(),
                    "sl_capability": t.sl_capability.model_dump() if t.sl_capability else None,
                    "assets_without_sl_c": list(t.unknown_capability),
                    "exceptions": list(t.exceptions),
                    "frs": [
                        {
                            "fr": g.fr.value,
                            "sl_t": g.sl_target,
                            "sl_a": g.sl_achieved,
                            "sl_c": g.sl_capability,
                            "gap": g.gap,
                            "limiting_assets": list(g.limiting_assets),
                            "capability_blocks_target": g.capability_blocks_target,
                            "missing_for_next_level": [_state_json(s) for s in g.missing_next],
                            "missing_for_target": [_state_json(s) for s in g.missing_for_target],
                        }
                        for g in t.frs
                        if fr is None or g.fr is fr
                    ],
                }
            )
        return {
            "site": self.site_id,
            "as_of": report.as_of.isoformat(),
            "sl_scale": self.sl_scale,
            "targets": targets,
            "compensating_controls": [
                {
                    "id": c.control,
                    "title": c.title,
                    "validity": c.validity.value,
                    "review_overdue": c.review_overdue,
                    "expires": c.expires.isoformat(),
                    "used_by": [{"target": t, "requirement": r} for t, r in c.used_by],
                    "reason": c.reason,
                }
                for c in report.controls
            ],
            "expired_compensations": [
                {
                    "target": e.target,
                    "requirement": e.requirement,
                    "control": e.control,
                    "validity": e.validity.value,
                    "since": e.since.isoformat() if e.since else None,
                }
                for e in report.expired_compensations
            ],
            "exceptions": [
                {"id": e.exception, "title": e.title, "active": e.active, "expires": e.expires.isoformat(),
                 "reason": e.reason}
                for e in report.exceptions
            ],
            "undecided": [{"subject": u.subject, "reason": u.reason, "path": list(u.path)} for u in report.undecided],
        }

    def explain(self, target: str, fr: FR) -> list[str]:
        """In plain words, why SL-A on ``fr`` is what it is for ``target``."""
        from zonewarden.engines.gap import explain

        try:
            return list(explain(self.report, target, fr))
        except KeyError:
            known = ", ".join(t.target for t in self.report.targets)
            raise InputError(f"--explain: no zone or conduit {target!r} (known: {known})") from None


def gap(store: Store, *, principal: Principal, site_id: str | None, as_of: str | dt.date | None = None,
        zones: Sequence[str] = (), fr: FR | None = None, only_gaps: bool = False) -> GapResult:
    """The gap of the stored site (``zones``: only these zones or conduits; ``fr``: only this FR;
    ``only_gaps``: only rows below SL-T)."""
    from zonewarden.services.sites import load_document

    doc = load_document(store, site_of(store, principal, site_id))
    return gap_of(doc, as_of=as_of, zones=zones, fr=fr, only_gaps=only_gaps)


def gap_of(doc: SiteDocument, *, as_of: str | dt.date | None = None, zones: Sequence[str] = (),
           fr: FR | None = None, only_gaps: bool = False) -> GapResult:
    from zonewarden.catalog.loader import load_62443_3_3
    from zonewarden.engines.gap import analyse

    today = day(doc.site.timezone, as_of)
    report = analyse(doc, load_62443_3_3(), today, zones=list(zones) or None)
    return GapResult(doc.site.id, doc.site.name, today, doc.sl_scale.model_dump(mode="json")["levels"], report,
                     tuple(zones), fr, only_gaps)


# --- ISO/IEC 27001 ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnnexAResult:
    """ISO/IEC 27001:2022 Annex A coverage derived from the site's IEC 62443 statuses."""

    site_id: str
    site_name: str
    as_of: dt.date
    coverage: tuple[AnnexCoverage, ...]
    only_gaps: bool = False

    def rows(self) -> list[dict[str, Any]]:
        """One row per control (``only_gaps``: those not fully covered)."""
        return [
            {
                "control": c.control,
                "theme": c.theme,
                "title": c.title,
                "coverage": c.coverage.value,
                "supporting": list(c.supporting),
                "met": c.met,
                "recorded": c.recorded,
                "mapping": " | ".join(f"{k.requirement} ({k.relation}): {k.rationale}" for k in c.links),
                "links": [
                    {"requirement": k.requirement, "relation": k.relation, "rationale": k.rationale}
                    for k in c.links
                ],
            }
            for c in self.coverage
            if not (self.only_gaps and c.coverage.value == "full")
        ]

    def counts(self) -> dict[str, int]:
        """Controls per coverage value, over every control, sorted by value."""
        counts: dict[str, int] = {}
        for c in self.coverage:
            counts[c.coverage.value] = counts.get(c.coverage.value, 0) + 1
        return dict(sorted(counts.items()))


def annex_a(store: Store, *, principal: Principal, site_id: str | None, as_of: str | dt.date | None = None,
            only_gaps: bool = False) -> AnnexAResult:
    from zonewarden.services.sites import load_document

    return annex_a_of(load_document(store, site_of(store, principal, site_id)), as_of=as_of, only_gaps=only_gaps)


def annex_a_of(doc: SiteDocument, *, as_of: str | dt.date | None = None, only_gaps: bool = False) -> AnnexAResult:
    from zonewarden.catalog.loader import load_iso27001, load_mapping
    from zonewarden.engines.gap import annex_a_coverage

    today = day(doc.site.timezone, as_of)
    coverage = annex_a_coverage(doc, load_iso27001(), load_mapping(), today)
    return AnnexAResult(doc.site.id, doc.site.name, today, tuple(coverage), only_gaps)
