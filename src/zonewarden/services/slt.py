"""SL-T history: every change of a zone's target security level, kept in the audit log.

IEC 62443-3-2 (ZCR 5) wants the SL-T traceable to the risk assessment; when someone sets a
target that differs from the proposal, an auditor asks who changed it, when, and why. The
site document only holds the current value, so each change is appended to the hash-chained
audit log as a ``zone.sl-target`` event (before/after: level vector and written rationale),
in the same transaction as the write that made it. :func:`record_slt_changes` is called by the
import service; :func:`slt_history` reads the events back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from zonewarden.services import audit
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

ACTION = "zone.sl-target"


def _zone_targets(data: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    out = {}
    for z in (data or {}).get("zones") or []:
        out[str(z["id"])] = {
            "sl_target": z.get("sl_target"),
            "rationale": z.get("sl_target_rationale"),
        }
    return out


def slt_changes(
    old: Mapping[str, Any] | None, new: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    """Zones whose SL-T or its rationale differ between two documents as plain JSON data
    (``model_dump(mode="json")``, as the store holds them): (zone, before, after), by zone id.
    A new zone with an SL-T has ``before`` None; a removed zone has ``after`` None."""
    before, after = _zone_targets(old), _zone_targets(new)
    out = []
    for zid in sorted(set(before) | set(after)):
        a, b = before.get(zid), after.get(zid)
        if a == b:
            continue
        if a is None and b is not None and b["sl_target"] is None:
            continue  # a new zone without a target has no SL-T to trace yet
        if b is None and a is not None and a["sl_target"] is None:
            continue
        out.append((zid, a, b))
    return out


def record_slt_changes(
    conn: Connection,
    site_id: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    *,
    principal: Principal,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> list[audit.AuditEvent]:
    """Append one audit event per changed zone SL-T, inside the caller's transaction."""
    return [
        audit.append(
            conn,
            action=ACTION,
            **principal.audit_fields,
            site_id=site_id,
            object_type="zone",
            object_id=zid,
            reason=reason,
            before=before,
            after=after,
            at=at,
        )
        for zid, before, after in slt_changes(old, new)
    ]


@dataclass(frozen=True, slots=True)
class SLTChange:
    """One recorded change of a zone's SL-T."""

    seq: int
    """Audit event number (the chain `zonewarden audit verify` checks)."""
    at: dt.datetime
    actor: str
    zone: str
    before: Any
    """Previous SL-T (a number or a mapping FR1..FR7), None when the zone had none."""
    after: Any
    rationale: str | None
    """The written justification recorded with the new value."""
    reason: str | None
    """Why the write happened (the import's --reason)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "zone": self.zone,
            "before": self.before,
            "after": self.after,
            "rationale": self.rationale,
            "reason": self.reason,
        }


def slt_history(store: Store, site_id: str, zone: str | None = None) -> list[SLTChange]:
    """Recorded SL-T changes of a site (or one zone), oldest first."""
    out = []
    with store.read() as conn:
        for e in audit.events(conn, site_id=site_id):
            if e.action != ACTION or (zone is not None and e.object_id != zone):
                continue
            before = (e.before or {}).get("sl_target")
            after_rec = e.after or {}
            out.append(
                SLTChange(
                    seq=e.seq,
                    at=e.at,
                    actor=e.actor,
                    zone=str(e.object_id),
                    before=before,
                    after=after_rec.get("sl_target"),
                    rationale=after_rec.get("rationale"),
                    reason=e.reason,
                )
            )
    return out


__all__ = ["ACTION", "SLTChange", "record_slt_changes", "slt_changes", "slt_history"]
