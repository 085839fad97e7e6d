"""The CISA KEV catalog: import it and reprioritise the findings whose CVEs it lists.

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, and_, select, update

from zonewarden.domain.advisories import (
    FlatAdvisory,
    Priority,
)
from zonewarden.services import audit, identity
from zonewarden.services.advisories.match_state import _flat_of, _site_matchers, ensure_current
from zonewarden.services.advisories.model import _clean
from zonewarden.services.advisories.triage import _recompute
from zonewarden.services.principal import Principal
from zonewarden.store.advisory_tables import (
    EXPLANATION_COLUMNS,
    findings,
    findings_explained,
    kev_entries,
)
from zonewarden.store.db import Store

# --- KEV ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KevImportReport:
    version: str
    entries: int
    added: int
    removed: int
    reprioritised: int
    """Findings whose SSVC priority changed because of the new catalog."""


def import_kev(store: Store, path: str | Path, *, principal: Principal, reason: str | None = None,
               content: bytes | None = None) -> KevImportReport:
    """Replace the stored KEV catalog with the file's and re-prioritise open findings.

    ``content``: the catalog's bytes when they did not come from disk (an upload; ``path`` is then
    its name in messages). The whole catalog is validated first (every problem with its JSON
    pointer); nothing is stored from a damaged file.
    """
    from zonewarden.io.kev import load_kev, parse_kev

    identity.authorize(store, principal, "kev.import")  # before reading: a stranger's upload is not parsed
    catalog = load_kev(path) if content is None else parse_kev(content, source=str(path))
    ensure_current(store)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        before = {r.cve for r in conn.execute(select(kev_entries.c.cve))}
        conn.execute(kev_entries.delete())
        rows = [
            {
                "cve": e.cve, "vendor": _clean(e.vendor), "product": _clean(e.product), "name": _clean(e.name),
                "date_added": e.date_added, "due_date": e.due_date, "ransomware": e.ransomware.value,
                "catalog_version": catalog.version,
            }
            for e in catalog.entries
        ]
        for start in range(0, len(rows), 5000):
            conn.execute(kev_entries.insert(), rows[start : start + 5000])
        after = {e.cve for e in catalog.entries}
        changed = _reprioritise(conn, frozenset(after) or None, now)
        audit.append(
            conn, action="kev.import", **principal.audit_fields, object_type="kev",
            object_id=catalog.version,
            reason=reason or f"import from {path}",
            before={"entries": len(before)},
            after={"entries": len(after), "added": len(after - before), "removed": len(before - after),
                   "reprioritised": changed},
            at=now,
        )
    return KevImportReport(catalog.version, len(after), len(after - before), len(before - after), len(changed))


def _reprioritise(conn: Connection, kev: frozenset[str] | None, now: dt.datetime) -> list[int]:
    # ssvc holds JSON null (not SQL NULL) for findings without a priority: filter on status.
    rows = conn.execute(
        select(findings, *EXPLANATION_COLUMNS).select_from(findings_explained).where(
            and_(findings.c.active.is_(True), findings.c.status.in_(["affected", "needs-review"]))
        )
    ).all()
    if not rows:
        return []
    matchers = {m.site_id: m for m in _site_matchers(conn, sorted({r.site_id for r in rows}))}
    flats: dict[int, FlatAdvisory] = {}
    changed = []
    for r in rows:
        sm = matchers.get(r.site_id)
        if sm is None or r.asset_id not in sm.assets:
            continue
        if r.advisory_row not in flats:
            flats[r.advisory_row] = _flat_of(conn, r.advisory_row)
        decision = _recompute(conn, r, r.overrides or {}, kev=kev or frozenset(), matcher=sm, flat=flats[r.advisory_row])
        if decision != r.ssvc:
            # Sources change too ("not in KEV" instead of "no KEV catalog"); only a changed
            # priority is reported as re-prioritised.
            conn.execute(
                update(findings).where(findings.c.id == r.id).values(
                    ssvc=decision, priority=decision["priority"], priority_rank=Priority(decision["priority"]).rank,
                    updated_at=now,
                )
            )
            if decision["priority"] != r.priority:
                changed.append(r.id)
    return changed


def kev_count(store: Store) -> tuple[int, str | None]:
    """How many KEV entries are stored, and the catalog version."""
    with store.read() as conn:
        rows = conn.execute(select(kev_entries.c.catalog_version)).all()
    return len(rows), (rows[0].catalog_version if rows else None)
