"""Triage decisions and SSVC overrides on one finding (approvals signed, audited).

Part of :mod:`zonewarden.services.advisories` (the facade re-exports the public names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from zonewarden.domain.advisories import (
    FlatAdvisory,
    Override,
    Priority,
)
from zonewarden.engines import ssvc as ssvc_engine
from zonewarden.errors import ConflictError, InputError, NotFoundError, Problem
from zonewarden.services import audit, identity, signatures
from zonewarden.services.advisories.match_state import (
    _flat_of,
    _kev_set,
    _site_matchers,
    _SiteMatcher,
    _ssvc_for,
    ensure_current,
)
from zonewarden.services.advisories.model import TRANSITIONS, TRIAGE_STATUSES, FindingRow
from zonewarden.services.advisories.reads import _finding_site, get_finding
from zonewarden.services.principal import Principal
from zonewarden.services.signatures import Signing
from zonewarden.store.advisory_tables import (
    EXPLANATION_COLUMNS,
    findings,
    findings_explained,
    triage_decisions,
)
from zonewarden.store.db import Store
from zonewarden.store.tables import sites

# --- triage ---------------------------------------------------------------------------------


TRIAGE_OPERATION = {
    "not-affected": "finding.close", "mitigated": "finding.close", "resolved": "finding.close",
    "risk-accepted": "risk.accept",
}
"""Triage moves that close a finding (or accept its risk) are approvals, signed when an
authenticated person makes them; the others are an engineer's triage."""


def decision_record(status: str, owner: str | None, expires: dt.date | None, controls: Sequence[str],
                    advisory: str, asset: str) -> dict[str, Any]:
    """A triage decision as the audit trail records it (and a signature is bound to)."""
    return {"triage": status, "owner": owner, "expires": expires.isoformat() if expires else None,
            "controls": list(controls), "advisory": advisory, "asset": asset}


def decide(
    store: Store,
    finding_id: int,
    status: str,
    why: str,
    owner: str | None = None,
    expires: dt.date | None = None,
    *,
    principal: Principal,
    controls: Sequence[str] = (),
    today: dt.date | None = None,
    signing: Signing | None = None,
) -> FindingRow:
    """Record a triage decision (append-only) and move the finding to ``status``.

    Workflow: new -> under-assessment -> not-affected (justification) / mitigated (compensating
    control ids, which must exist in the site) / remediation-planned / risk-accepted (owner and
    a future expiry date) / resolved; every decided state can return to under-assessment.
    Anything else raises :class:`ConflictError`; missing facts raise :class:`InputError`.
    """
    if status not in TRIAGE_STATUSES:
        raise InputError(f"unknown triage status {status!r}; use one of {', '.join(TRIAGE_STATUSES)}")
    why = (why or "").strip()
    if len(why) < 10:
        raise InputError("--why must say why in at least 10 characters (it becomes audit evidence)")
    today = today or dt.date.today()
    controls = tuple(sorted({c.strip() for c in controls if c and c.strip()}))
    problems: list[Problem] = []
    if status == "risk-accepted":
        if not owner:
            problems.append(Problem("risk-accepted needs --owner: the person who accepts the risk", ("owner",)))
        if expires is None:
            problems.append(Problem("risk-accepted needs --expires DATE: acceptance is time-limited", ("expires",)))
        elif expires <= today:
            problems.append(Problem(f"--expires {expires} is not in the future (today is {today})", ("expires",)))
    if status == "mitigated" and not controls:
        problems.append(Problem("mitigated needs --control ID: the compensating control(s) that mitigate it", ("controls",)))
    if problems:
        raise InputError(f"finding {finding_id}: cannot record {status}", problems)
    ensure_current(store)
    operation = TRIAGE_OPERATION.get(status, "finding.triage")
    site_of = _finding_site(store, principal, finding_id)
    identity.authorize(store, principal, operation, site_of)
    signer = signatures.confirm(store, principal, operation, signing)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        row = conn.execute(select(findings).where(findings.c.id == finding_id)).first()
        if row is None:
            raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
        allowed = TRANSITIONS[row.triage_status]
        if status not in allowed:
            raise ConflictError(
                f"finding {finding_id} is {row.triage_status}; it can go to "
                f"{', '.join(sorted(allowed))}, not {status}"
            )
        if controls:
            from zonewarden.services.sites import _stored_data

            data = _stored_data(conn, row.site_id) or {}
            known = {c.get("id") for c in data.get("compensating_controls") or []}
            unknown = [c for c in controls if c not in known]
            if unknown:
                raise InputError(
                    f"finding {finding_id}: unknown compensating control(s) {', '.join(unknown)} in site {row.site_id}",
                    [Problem("declare it under compensating_controls in the site file first", ("controls",))],
                )
        keep = status == "risk-accepted"
        conn.execute(
            triage_decisions.insert().values(
                finding_id=finding_id, at=now, actor=principal.user_id, from_status=row.triage_status,
                to_status=status, why=why, owner=owner, expires=expires, controls=list(controls), automatic=False,
            )
        )
        conn.execute(
            update(findings)
            .where(findings.c.id == finding_id)
            .values(triage_status=status, triage_owner=owner if keep or owner else None,
                    triage_expires=expires if keep else None, updated_at=now)
        )
        decided = decision_record(status, owner, expires, controls, row.tracking_id, row.asset_id)
        audit.append(
            conn, action="finding.decide", **principal.audit_fields, site_id=row.site_id,
            object_type="finding", object_id=str(finding_id), reason=why, before={"triage": row.triage_status},
            after=decided, at=now,
        )
        if signing is not None and signatures.needs_signature(signer, operation):
            head = conn.execute(select(sites.c.data).where(sites.c.id == row.site_id)).scalar() or {}
            timezone = ((head.get("site") or {}) if isinstance(head, dict) else {}).get("timezone")
            audit.append(conn, **signatures.signature_event(  # type: ignore[arg-type]
                signer, operation, row.site_id, timezone, signing, "finding", str(finding_id), decided, now))
    return get_finding(store, finding_id, principal=principal)


def override(
    store: Store,
    finding_id: int,
    values: Mapping[str, str | None],
    why: str,
    *,
    principal: Principal,
) -> FindingRow:
    """Replace (or with ``None`` remove) computed SSVC inputs of a finding, with a justification.

    ``values`` maps input names (exploitation, exposure, automatable, safety_impact,
    mission_impact, human_impact) to a value of that decision point. The priority is recomputed
    in the same transaction; the override and the old and new priority go to the audit log.
    """
    why = (why or "").strip()
    if len(why) < 10:
        raise InputError("--why must justify the override in at least 10 characters")
    unknown = sorted(set(values) - set(ssvc_engine.INPUTS))
    if unknown:
        raise InputError(f"unknown SSVC input(s) {', '.join(unknown)}; known: {', '.join(ssvc_engine.INPUTS)}")
    if not values:
        raise InputError("name at least one input to override, e.g. --exposure open")
    ensure_current(store)
    identity.authorize(store, principal, "finding.triage", _finding_site(store, principal, finding_id))
    now = dt.datetime.now(dt.UTC)
    who = principal.user_id
    with store.transaction() as conn:
        row = conn.execute(
            select(findings, *EXPLANATION_COLUMNS).select_from(findings_explained).where(findings.c.id == finding_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no finding {finding_id} (see `zonewarden findings list`)")
        if row.ssvc is None:
            raise ConflictError(
                f"finding {finding_id} is {row.status}: only affected and needs-review findings have an SSVC priority"
            )
        overrides = dict(row.overrides or {})
        for name, value in values.items():
            if value is None:
                overrides.pop(name, None)
            else:
                overrides[name] = Override(value=value, justification=why, by=who).model_dump(mode="json")
        decision = _recompute(conn, row, overrides)
        conn.execute(
            update(findings)
            .where(findings.c.id == finding_id)
            .values(overrides=overrides, ssvc=decision, priority=decision["priority"],
                    priority_rank=Priority(decision["priority"]).rank, updated_at=now)
        )
        audit.append(
            conn, action="finding.override", **principal.audit_fields, site_id=row.site_id,
            object_type="finding",
            object_id=str(finding_id), reason=why,
            before={"priority": row.priority, "overrides": row.overrides},
            after={"priority": decision["priority"], "overrides": overrides}, at=now,
        )
    return get_finding(store, finding_id, principal=principal)


def _recompute(conn: Connection, row: Any, overrides: Mapping[str, Any], kev: frozenset[str] | None = None,
               matcher: _SiteMatcher | None = None, flat: FlatAdvisory | None = None) -> dict[str, Any]:
    if flat is None:
        flat = _flat_of(conn, row.advisory_row)
    if matcher is None:
        matchers = _site_matchers(conn, [row.site_id])
        if not matchers:
            raise NotFoundError(f"site {row.site_id!r} of finding {row.id} is no longer in the database")
        matcher = matchers[0]
    asset = matcher.assets.get(row.asset_id)
    if asset is None:
        raise ConflictError(f"asset {row.asset_id!r} of finding {row.id} is no longer in site {row.site_id}")
    decision = _ssvc_for(
        flat, None, row.status, row.matches, row.cves, asset, matcher.exposure[asset.id],
        kev if kev is not None else _kev_set(conn), overrides,
    )
    assert decision is not None
    return decision
