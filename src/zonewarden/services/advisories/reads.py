"""Read stored advisories and findings (lists, one finding with its decisions).

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select

from zonewarden.domain.advisories import (
    Priority,
)
from zonewarden.errors import NotFoundError
from zonewarden.services import access
from zonewarden.services.advisories.model import (
    AdvisoryRow,
    FindingRow,
    TriageDecision,
    version_key,
)
from zonewarden.services.principal import Principal
from zonewarden.store.advisory_tables import (
    EXPLANATION_COLUMNS,
    advisories,
    findings,
    findings_explained,
    triage_decisions,
)
from zonewarden.store.db import Store

# --- queries --------------------------------------------------------------------------------


def list_advisories(store: Store, *, include_history: bool = False) -> list[AdvisoryRow]:
    """Stored advisories, current revisions only unless ``include_history``; sorted by tracking id, version."""
    stmt = select(*(advisories.c[c] for c in _ADV_COLS))
    if not include_history:
        stmt = stmt.where(advisories.c.current.is_(True))
    with store.read() as conn:
        rows = [_advisory_row(r) for r in conn.execute(stmt)]
    return sorted(rows, key=lambda a: (a.tracking_id, version_key(a.version), a.row_id))


_ADV_COLS = (
    "id", "tracking_id", "version", "publisher", "title", "release_date", "status", "sha256", "source", "current",
    "deviations", "ingested_at",
)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _advisory_row(r: Any) -> AdvisoryRow:
    return AdvisoryRow(
        r.id, r.tracking_id, r.version, r.publisher, r.title, _utc(r.release_date), r.status, r.sha256, r.source,
        bool(r.current), tuple(r.deviations or ()), _utc(r.ingested_at) or dt.datetime.min.replace(tzinfo=dt.UTC),
    )


def advisory_history(store: Store, tracking_id: str) -> list[AdvisoryRow]:
    """Every stored revision of one advisory, oldest version first."""
    with store.read() as conn:
        rows = [
            _advisory_row(r)
            for r in conn.execute(select(*(advisories.c[c] for c in _ADV_COLS)).where(advisories.c.tracking_id == tracking_id))
        ]
    if not rows:
        raise NotFoundError(f"no advisory {tracking_id!r} stored (see `zonewarden advisories list`)")
    return sorted(rows, key=lambda a: (version_key(a.version), a.row_id))


def advisory_document(store: Store, row_id: int) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(select(advisories.c.document).where(advisories.c.id == row_id)).first()
    if row is None:
        raise NotFoundError(f"no advisory row {row_id}")
    doc: dict[str, Any] = orjson.loads(row.document)
    return doc


def _finding_query():  # type: ignore[no-untyped-def]
    return select(
        findings,
        *EXPLANATION_COLUMNS,
        advisories.c.version.label("advisory_version"),
        advisories.c.title.label("advisory_title"),
    ).select_from(findings_explained.join(advisories, advisories.c.id == findings.c.advisory_row))


def _finding_row(r: Any, decisions: tuple[TriageDecision, ...] = ()) -> FindingRow:
    return FindingRow(
        id=r.id,
        site_id=r.site_id,
        tracking_id=r.tracking_id,
        advisory_version=r.advisory_version,
        advisory_title=r.advisory_title,
        asset_id=r.asset_id,
        zone_id=r.zone_id,
        active=bool(r.active),
        status=r.status,
        reason=r.reason,
        message=r.message,
        cves=tuple(r.cves or ()),
        matches=tuple(r.matches or ()),
        ssvc=r.ssvc,
        priority=r.priority,
        triage_status=r.triage_status,
        triage_owner=r.triage_owner,
        triage_expires=r.triage_expires,
        decisions=decisions,
    )


_STATUS_ORDER = {"affected": 0, "needs-review": 1, "fixed": 2, "not-affected": 3}


def list_findings(
    store: Store,
    *,
    principal: Principal,
    site_id: str | None = None,
    priority: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    triage: str | Sequence[str] | None = None,
    zone: str | None = None,
    advisory: str | None = None,
    include_inactive: bool = False,
) -> list[FindingRow]:
    """Stored findings, most urgent first (priority, then status, advisory, asset).

    Filters take one value or several; ``status`` is the matcher status (affected,
    not-affected, fixed, needs-review), ``triage`` the workflow status. Only findings of sites
    the principal may see are listed. A read never writes: findings are brought up to date by
    the writes that change an inventory (import, ingest), as the system.
    """

    def many(v: str | Sequence[str] | None) -> list[str] | None:
        return None if v is None else ([v] if isinstance(v, str) else list(v))

    stmt = _finding_query()
    if not include_inactive:
        stmt = stmt.where(findings.c.active.is_(True))
    if site_id is not None:
        stmt = stmt.where(findings.c.site_id == site_id)
    if (p := many(priority)) is not None:
        stmt = stmt.where(findings.c.priority.in_(p))
    if (s := many(status)) is not None:
        stmt = stmt.where(findings.c.status.in_(s))
    if (t := many(triage)) is not None:
        stmt = stmt.where(findings.c.triage_status.in_(t))
    if zone is not None:
        stmt = stmt.where(findings.c.zone_id == zone)
    if advisory is not None:
        stmt = stmt.where(findings.c.tracking_id == advisory)
    with store.read() as conn:
        seen: dict[str, bool] = {}  # site id -> may read (findings of a deleted site stay readable by
        rows = [                     # those with a role on every site)
            f for f in (_finding_row(r) for r in conn.execute(stmt))
            if seen.setdefault(f.site_id, access.allowed(principal, "site.read", f.site_id))
        ]
    return sorted(
        rows,
        key=lambda f: (
            -(Priority(f.priority).rank if f.priority else -1),
            _STATUS_ORDER.get(f.status, 9),
            f.site_id,
            f.tracking_id,
            f.asset_id,
        ),
    )


def _decisions(conn: Connection, finding_id: int) -> tuple[TriageDecision, ...]:
    rows = conn.execute(
        select(triage_decisions).where(triage_decisions.c.finding_id == finding_id).order_by(triage_decisions.c.id)
    )
    return tuple(
        TriageDecision(
            _utc(r.at) or dt.datetime.min.replace(tzinfo=dt.UTC), r.actor, r.from_status, r.to_status, r.why, r.owner,
            r.expires, tuple(r.controls or ()), bool(r.automatic),
        )
        for r in rows
    )


def _finding_site(store: Store, principal: Principal, finding_id: int) -> str:
    """The site of a finding the principal may see; an invisible one is reported as unknown."""
    with store.read() as conn:
        site_of = conn.execute(select(findings.c.site_id).where(findings.c.id == finding_id)).scalar()
    if site_of is None or not access.visible_sites(principal, [site_of]):
        raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
    return str(site_of)


def get_finding(store: Store, finding_id: int, *, principal: Principal) -> FindingRow:
    """One finding with its whole triage history (a finding of a site the principal may not
    see is reported as unknown)."""
    _finding_site(store, principal, finding_id)
    with store.read() as conn:
        row = conn.execute(_finding_query().where(findings.c.id == finding_id)).first()
        if row is None:
            raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
        return _finding_row(row, _decisions(conn, finding_id))
