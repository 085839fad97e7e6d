"""Check-finding waivers as signed approvals (issue 12 item 3).

A waiver accepts one segmentation-check finding for a while. Two forms are read:

- **legacy**: ``approved_by`` typed in the site file. It waives as before and is shown as
  *not signed* (nobody authenticated the approval);
- **signed**: a waiver with an ``id`` recorded without an approval (:func:`record_waiver`,
  ``waiver.record``; it is *pending* and waives nothing), then approved by an electronic
  signature (:func:`approve_waiver`, ``waiver.approve``) through the one approval path
  (:func:`mutation.approve_record`): re-authentication, the meaning, the waiver's content hash.
  Editing the waiver afterwards shows the signature as no longer matching.

With user accounts an approval cannot be typed into a recorded waiver: it is refused, naming
``waiver approve``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from zonewarden.domain.site import Waiver
from zonewarden.errors import ConflictError, InputError
from zonewarden.services import identity, mutation
from zonewarden.services.principal import Principal
from zonewarden.services.requirements import refuse_typed_approval
from zonewarden.services.signatures import SignatureView, Signing, signatures_of, site_records
from zonewarden.store.db import Store

OBJECT_TYPE = "waiver"
TYPED_FIELDS = ("approved_by", "approved")

WAIVER_APPROVAL = mutation.ApprovalKind(
    "checks.waivers", "waiver", "waivers", "waiver.approve", OBJECT_TYPE, "waiver.approve",
)


def record_waiver(store: Store, site_id: str, waiver: Waiver, *, principal: Principal, reason: str | None = None,
                  expected_revision: str | None = None) -> mutation.RecordOutcome:
    """Add or replace a waiver by its ``id`` (``waiver.record``). A new or edited waiver recorded
    by an authenticated user carries no approval: the approver signs it (:func:`approve_waiver`)."""
    if waiver.id is None:
        raise InputError("a recorded waiver needs an id (the signature names it): add 'id: W-...'")
    new = waiver.model_dump(mode="json", exclude_defaults=True)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        checks = dict(data.get("checks") or {})
        rows: list[dict[str, Any]] = list(checks.get("waivers") or [])
        assert waiver.id is not None
        at = next((i for i, r in enumerate(rows) if r.get("id") == waiver.id), None)
        before = rows[at] if at is not None else None
        refuse_typed_approval(principal, "waiver", waiver.id, before, new, "waiver approve", TYPED_FIELDS)
        if at is None:
            rows.append(new)
        else:
            rows[at] = new
        checks["waivers"] = rows
        data["checks"] = checks
        return waiver.id, before, new

    return mutation.apply(store, site_id, "waiver.record", OBJECT_TYPE, mutate, principal=principal,
                          operation="waiver.record", reason=reason, expected_revision=expected_revision)


def approve_waiver(
    store: Store,
    site_id: str,
    waiver_id: str,
    *,
    approver: str | None,
    approved: dt.date,
    principal: Principal,
    reason: str | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
) -> mutation.RecordOutcome:
    """Approve a pending waiver (``waiver.approve``): ``approved_by`` is the signer's linked
    person (the person named, in single-user mode), ``approved`` the date; with user accounts
    an electronic signature bound to the waiver. A waiver approved already, or expired, is not."""

    def approve(row: dict[str, Any], data: dict[str, Any], person: str) -> dict[str, Any]:
        if row.get("approved_by"):
            raise ConflictError(f"waiver {waiver_id} is approved already (by {row['approved_by']}); "
                                "record it again (without an approval) to renew it")
        expires = dt.date.fromisoformat(str(row["expires"]))
        if expires < approved:
            raise InputError(f"waiver {waiver_id} expired on {expires}; record it again with a new expiry")
        return {**row, "approved_by": person, "approved": approved.isoformat()}

    return mutation.approve_record(store, site_id, waiver_id, WAIVER_APPROVAL, approve, approver=approver,
                                   principal=principal, reason=reason, signing=signing,
                                   expected_revision=expected_revision)


def signature_state(waiver: Waiver | dict[str, Any], views: dict[str, SignatureView]) -> dict[str, Any]:
    """How a waiver's approval stands: ``pending``, ``not signed`` (a typed, legacy approval),
    or the signature's own status (``valid``, ``no longer matches``) with the signature."""
    row = waiver.model_dump(mode="json") if isinstance(waiver, Waiver) else waiver
    view = views.get(str(row.get("id"))) if row.get("id") is not None else None
    if view is not None:
        return {"status": view.status, "line": view.line(), "signature": view.as_dict()}
    if not row.get("approved_by"):
        return {"status": "pending", "line": "pending: not approved yet (waives nothing)", "signature": None}
    return {"status": "not signed", "line": f"approved by {row['approved_by']}, not signed", "signature": None}


def waiver_signatures(store: Store, site_id: str) -> dict[str, SignatureView]:
    """The latest signature of each waiver of a stored site, checked against the waiver now."""
    from zonewarden.services.sites import _stored_data

    with store.read() as conn:
        records = site_records(_stored_data(conn, site_id) or {})
        views = signatures_of(conn, site_id, records, object_type=OBJECT_TYPE)
    return {v.object_id: v for v in views}  # in seq order: the last one wins


def list_waivers(store: Store, site_id: str, *, principal: Principal) -> list[dict[str, Any]]:
    """Every waiver of a site with how its approval stands (``site.read``)."""
    from zonewarden.services.sites import _stored_data

    identity.authorize(store, principal, "site.read", site_id)
    with store.read() as conn:
        data = _stored_data(conn, site_id) or {}
    views = waiver_signatures(store, site_id)
    rows = (data.get("checks") or {}).get("waivers") or []
    return [{**row, "approval": signature_state(row, views)} for row in rows]


__all__ = ["WAIVER_APPROVAL", "approve_waiver", "list_waivers", "record_waiver", "signature_state",
           "waiver_signatures"]
