"""Per-site advisory summary and the evidence pack's data.

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

from typing import Any

from zonewarden.domain.advisories import (
    FindingStatus,
    Priority,
)
from zonewarden.services.advisories.kev import kev_count
from zonewarden.services.advisories.model import TRIAGE_STATUSES
from zonewarden.services.advisories.reads import _decisions, list_advisories, list_findings
from zonewarden.services.principal import SYSTEM
from zonewarden.store.db import Store

# --- summaries (evidence) -------------------------------------------------------------------


def summary(store: Store, site_id: str) -> dict[str, Any]:
    """Counts per status, priority and triage state of a site's active findings, and the
    advisories and KEV catalog they come from: the data of the evidence section."""
    rows = list_findings(store, principal=SYSTEM, site_id=site_id)  # the caller authorized the site
    by_status: dict[str, int] = {s.value: 0 for s in FindingStatus}
    by_priority: dict[str, int] = {p.value: 0 for p in Priority}
    by_triage: dict[str, int] = dict.fromkeys(TRIAGE_STATUSES, 0)
    for f in rows:
        by_status[f.status] = by_status.get(f.status, 0) + 1
        if f.priority:
            by_priority[f.priority] += 1
        by_triage[f.triage_status] = by_triage.get(f.triage_status, 0) + 1
    kev_entries_count, kev_version = kev_count(store)
    return {
        "findings": len(rows),
        "by_status": by_status,
        "by_priority": by_priority,
        "by_triage": by_triage,
        "advisories": len({f.tracking_id for f in rows}),
        "advisories_stored": len(list_advisories(store)),
        "kev_entries": kev_entries_count,
        "kev_version": kev_version,
    }


def evidence_data(store: Store, site_id: str) -> dict[str, Any]:
    """What the evidence section ``advisories`` needs (plain data): the summary, every active
    finding without its match details, and every triage decision of the site, oldest first."""
    rows = list_findings(store, principal=SYSTEM, site_id=site_id)  # the caller authorized the site
    decisions = []
    with store.read() as conn:
        for f in sorted(rows, key=lambda f: f.id):
            for d in _decisions(conn, f.id):
                decisions.append({
                    "finding": f.id, "at": d.at.isoformat(timespec="seconds"), "actor": d.actor, "from": d.from_status,
                    "to": d.to_status, "why": d.why, "owner": d.owner,
                    "expires": d.expires.isoformat() if d.expires else None, "controls": list(d.controls),
                    "automatic": d.automatic,
                })
    findings_json = []
    for f in rows:
        item = f.as_json()
        item.pop("matches")
        item.pop("decisions")
        findings_json.append(item)
    return {"summary": summary(store, site_id), "findings": findings_json,
            "decisions": sorted(decisions, key=lambda d: (d["at"], d["finding"]))}
