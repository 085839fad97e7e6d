"""Risk and calendar queries: the SL-T proposal and its recorded history, the risk register,
the risk method as applied, and the assessments due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.risk import RiskMethod
from zonewarden.domain.site import SiteDocument
from zonewarden.services.principal import Principal
from zonewarden.services.queries import day, site_of
from zonewarden.store.db import Store


def levels_text(vector: Any) -> str:
    return "-" if vector is None else str(vector)


def _days(period: str | int) -> int:
    """``90d``, ``12w`` or a number of days."""
    from zonewarden.engines.cadence import parse_days

    return period if isinstance(period, int) else parse_days(period)


def _document(store: Store, principal: Principal, site_id: str | None) -> SiteDocument:
    from zonewarden.services.sites import load_document

    return load_document(store, site_of(store, principal, site_id))


# --- slt -------------------------------------------------------------------------------------


SLT_COLUMNS = ["zone", "fr", "proposed", "current", "reason"]


@dataclass(frozen=True, slots=True)
class SltResult:
    """The SL-T proposed per zone and FR from the zone's risk scenarios, with the reasoning."""

    site_id: str
    site_name: str
    method: RiskMethod
    proposals: tuple[Any, ...]

    @property
    def unjustified(self) -> list[str]:
        """Zones whose SL-T differs from the proposal without a written ``sl_target_rationale``."""
        return [p.zone for p in self.proposals if p.missing_justification]

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site_id,
            "method": {"name": self.method.name, "version": self.method.version},
            "zones": [p.as_dict(full=True) for p in self.proposals],
        }

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for p in self.proposals:
            if p.proposal is None:
                rows.append({"zone": p.zone, "fr": "-", "proposed": "-", "current": levels_text(p.current),
                             "reason": p.undecided_reason})
                continue
            for fr in p.per_fr:
                rows.append({"zone": p.zone, "fr": fr.fr.value, "proposed": fr.level,
                             "current": "-" if p.current is None else p.current[fr.fr], "reason": fr.reason})
        return rows


def slt(store: Store, *, principal: Principal, site_id: str | None, zone: str | None = None) -> SltResult:
    return slt_of(_document(store, principal, site_id), zone=zone)


def slt_of(doc: SiteDocument, *, zone: str | None = None) -> SltResult:
    """``zone``: only this zone."""
    from zonewarden.engines.risk import propose_slt

    return SltResult(doc.site.id, doc.site.name, doc.risk_method, tuple(propose_slt(doc, zone)))


SLT_HISTORY_COLUMNS = ["seq", "at", "actor", "zone", "before", "after", "rationale", "reason"]


@dataclass(frozen=True, slots=True)
class SltHistory:
    """The recorded SL-T changes of a site (who, when, from, to, rationale), oldest first."""

    site_id: str
    changes: tuple[Any, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site_id, "history": [c.as_dict() for c in self.changes]}

    def rows(self) -> list[dict[str, Any]]:
        """The changes with their levels as text (``1,2,2,1,1,1,1``)."""
        from zonewarden.domain.levels import SLTarget

        def plain(value: Any) -> str:
            return "-" if value is None else str(SLTarget.model_validate(value))

        rows = [c.as_dict() for c in self.changes]
        for r in rows:
            r["before"], r["after"] = plain(r["before"]), plain(r["after"])
        return rows


def slt_history(store: Store, *, principal: Principal, site_id: str | None, zone: str | None = None) -> SltHistory:
    """From the audit trail (a stored site only)."""
    from zonewarden.services.slt import slt_history as history

    ident = site_of(store, principal, site_id)
    return SltHistory(ident, tuple(history(store, ident, zone)))


# --- risks -----------------------------------------------------------------------------------


RISK_COLUMNS = ["id", "zone", "title", "threat", "inherent", "residual", "treatment", "owner", "review", "flags"]


def _cell(score: Any) -> str:
    w = score.worst
    return f"{w.rating} {w.score} (L{w.likelihood} x I{w.impact} {w.category})"


@dataclass(frozen=True, slots=True)
class RisksResult:
    """The risk register on one day: inherent vs residual risk, treatment, owner, flags."""

    site_id: str
    site_name: str
    as_of: dt.date
    method: RiskMethod
    entries: tuple[Any, ...]
    supplier_inputs: tuple[Any, ...] = ()
    """Risk inputs: a zone's assets from suppliers without a usable disclosure process."""

    @property
    def over_tolerance(self) -> int:
        """Scenarios over tolerance without a valid acceptance."""
        return sum(1 for e in self.entries if any(f.code == "over-tolerance" for f in e.flags))

    def as_dict(self) -> dict[str, Any]:
        from zonewarden.engines.risk import heat_map, treatment_counts

        method, entries = self.method, list(self.entries)
        return {
            "site": self.site_id,
            "as_of": self.as_of.isoformat(),
            "method": {"name": method.name, "version": method.version, "tolerable": method.tolerable},
            "entries": [e.as_dict() for e in entries],
            "supplier_inputs": [i.as_dict() for i in self.supplier_inputs],
            "treatments": treatment_counts(entries),
            "heat_map": {
                "ratings": [list(r) for r in method.matrix_rows()],
                "inherent": [list(r) for r in heat_map(method, entries, "inherent").counts],
                "residual": [list(r) for r in heat_map(method, entries, "residual").counts],
            },
        }

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": e.id,
                "zone": e.scenario.zone,
                "title": e.scenario.title,
                "threat": f"{e.scenario.threat.actor.value} via {e.scenario.threat.vector}",
                "inherent": _cell(e.inherent),
                "residual": _cell(e.residual),
                "treatment": e.scenario.treatment.value,
                "owner": e.scenario.owner,
                "review": e.scenario.review_date.isoformat(),
                "flags": ", ".join(f.code for f in e.flags),
            }
            for e in self.entries
        ]


def risks(store: Store, *, principal: Principal, site_id: str | None, as_of: str | dt.date | None = None,
          zone: str | None = None, over_tolerance: bool = False, expiring_within: str | int = "90d") -> RisksResult:
    return risks_of(_document(store, principal, site_id), as_of=as_of, zone=zone, over_tolerance=over_tolerance,
                    expiring_within=expiring_within)


def risks_of(doc: SiteDocument, *, as_of: str | dt.date | None = None, zone: str | None = None,
             over_tolerance: bool = False, expiring_within: str | int = "90d") -> RisksResult:
    """``over_tolerance``: only scenarios above tolerable; acceptances expiring within
    ``expiring_within`` (``90d``, ``12w`` or days) are flagged."""
    from zonewarden.engines.risk import register, supplier_inputs

    today = day(doc.site.timezone, as_of)
    entries = register(doc, today, zone=zone, over_tolerance_only=over_tolerance,
                       expiring_within_days=_days(expiring_within))
    return RisksResult(doc.site.id, doc.site.name, today, doc.risk_method, tuple(entries),
                       tuple(supplier_inputs(doc, today, zone=zone)))


# --- risk method -----------------------------------------------------------------------------


def risk_method(store: Store, *, principal: Principal, site_id: str | None) -> dict[str, Any]:
    return risk_method_of(_document(store, principal, site_id))


def risk_method_of(doc: SiteDocument) -> dict[str, Any]:
    """The risk method exactly as it is applied, defaults included, with its matrix spelt out:
    ``{"risk_method": {...}}``."""
    data = doc.risk_method.model_dump(mode="json")
    data["matrix"] = [list(r) for r in doc.risk_method.matrix_rows()]
    return {"risk_method": data}


# --- due -------------------------------------------------------------------------------------


DUE_COLUMNS = ["status", "due", "days", "zone", "kind", "reason"]


@dataclass(frozen=True, slots=True)
class DueResult:
    """Assessments overdue or due within a period, per zone, with the reason."""

    site_id: str
    site_name: str
    as_of: dt.date
    within_days: int
    items: tuple[Any, ...]
    """Every item, scheduled ones included (the counts and the exit code read them all)."""
    show_all: bool = False

    @property
    def shown(self) -> list[Any]:
        """What is listed: overdue and due, and with ``show_all`` the scheduled ones too."""
        from zonewarden.engines.cadence import DueStatus

        return [i for i in self.items if self.show_all or i.status is not DueStatus.SCHEDULED]

    @property
    def overdue(self) -> bool:
        from zonewarden.engines.cadence import has_overdue

        return has_overdue(list(self.items))

    def counts(self) -> dict[str, int]:
        """Items per status (every status, in the engine's order)."""
        from zonewarden.engines.cadence import DueStatus

        return {s.value: sum(1 for i in self.items if i.status is s) for s in DueStatus}

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site_id, "as_of": self.as_of.isoformat(), "within_days": self.within_days,
                "items": [i.as_dict() for i in self.shown]}

    def rows(self) -> list[dict[str, Any]]:
        rows = [i.as_dict() for i in self.shown]
        for r in rows:
            r["due"] = r["due"] or "never done"
        return rows


def due(store: Store, *, principal: Principal, site_id: str | None, as_of: str | dt.date | None = None,
        within: str | int = "90d", show_all: bool = False, baseline: SiteDocument | None = None) -> DueResult:
    """From the database, re-imports that added exposed conduits or critical assets count too."""
    from zonewarden.services.calendar import import_triggers

    doc = _document(store, principal, site_id)
    return due_of(doc, as_of=as_of, within=within, show_all=show_all, baseline=baseline,
                  extra_triggers=import_triggers(store, doc))


def due_of(doc: SiteDocument, *, as_of: str | dt.date | None = None, within: str | int = "90d",
           show_all: bool = False, baseline: SiteDocument | None = None, extra_triggers: list[Any] | None = None,
           ) -> DueResult:
    """``baseline``: an earlier version of the site; what changed since adds scoped reassessments."""
    from zonewarden.engines.cadence import due_items
    from zonewarden.engines.sitediff import diff_sites

    today = day(doc.site.timezone, as_of)
    days = _days(within)
    extra = list(diff_sites(baseline, doc, as_of=today).triggers) if baseline is not None else []
    extra += extra_triggers or []
    items = due_items(doc, today, within_days=days, extra_triggers=extra)
    return DueResult(doc.site.id, doc.site.name, today, days, tuple(items), show_all)
