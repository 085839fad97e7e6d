"""Patch management use cases: deferrals, patch change records and their status moves, and the
open remediation work the planner takes.

Every write is one transaction through the shared mutation mechanism (services/mutation.py):
read the stored site, change one record (or, for a file of records, all of them, with one
audit event each), validate the whole site again (so a deferral beyond the policy
maximum, an approver without the right role or a patch for an unknown asset is refused with
nothing written), write it back and append one audit event with the record before and after.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable, Sequence
from typing import Any

from zonewarden.domain.governance import Approval, ChangeStatus, Decision
from zonewarden.domain.patching import (
    TRANSITIONS,
    Deferral,
    PatchChange,
    PatchPolicy,
    RemediationItem,
    items_from_findings,
)
from zonewarden.domain.site import Asset, SiteDocument
from zonewarden.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from zonewarden.services import mutation
from zonewarden.services.mutation import Step, apply_many
from zonewarden.services.principal import SYSTEM, Principal
from zonewarden.services.requirements import RecordOutcome, approver_for, refuse_typed_approval
from zonewarden.services.requirements import (
    _apply as apply_change,  # one write path for site records
)
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store


def _find(rows: list[dict[str, Any]], ident: str, what: str, site_id: str) -> int:
    for i, row in enumerate(rows):
        if row.get("id") == ident:
            return i
    known = ", ".join(sorted(str(r.get("id")) for r in rows)) or "none recorded"
    raise NotFoundError(f"no {what} {ident!r} in site {site_id!r} ({what}s: {known})")


def _people_roles(data: dict[str, Any]) -> dict[str, set[str]]:
    return {p["id"]: set(p.get("roles") or ()) for p in data.get("people") or []}


def _tier_policy(data: dict[str, Any], asset_id: str) -> Any:
    policy = PatchPolicy.model_validate(data.get("patch_policy") or {})

    for a in data.get("assets") or []:
        if a.get("id") == asset_id:
            return policy.tier(Asset.model_validate(a).effective_patch_tier)
    raise NotFoundError(f"unknown asset {asset_id!r}")


def _deferral_step(deferral: Deferral, principal: Principal, label: str | None = None) -> Step:
    new = deferral.model_dump(mode="json", exclude_defaults=True)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("deferrals") or [])
        before = None
        for i, row in enumerate(rows):
            if row.get("id") == deferral.id:
                before, rows[i] = row, new
                break
        else:
            rows.append(new)
        refuse_typed_approval(principal, "deferral", deferral.id, before, new, "patch defer approve")
        data["deferrals"] = rows
        return deferral.id, before, new

    return Step("patch.deferral.record", "deferral", mutate, label)


def _labels(labels: Sequence[str | None] | None, n: int) -> list[str | None]:
    return list(labels) if labels is not None else [f"records[{i}]" for i in range(n)]


def record_deferral(
    store: Store, site_id: str, deferral: Deferral, *, principal: Principal, reason: str | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Add a deferral, or replace the one with the same id (a renewal gets a new id)."""
    return record_deferrals(store, site_id, [deferral], principal=principal, reason=reason,
                            expected_revision=expected_revision, labels=[None])[0]


def record_deferrals(
    store: Store, site_id: str, deferrals: Sequence[Deferral], *, principal: Principal, reason: str | None = None,
    expected_revision: str | None = None, labels: Sequence[str | None] | None = None,
) -> list[RecordOutcome]:
    """Add or replace several deferrals in one transaction, all or nothing (one audit event
    each); an error names the record by ``labels[i]`` (default ``records[i]``)."""
    names = _labels(labels, len(deferrals))
    return apply_many(store, site_id, [_deferral_step(d, principal, n) for d, n in zip(deferrals, names, strict=True)],
                      principal=principal, operation="patch.defer.record", reason=reason,
                      expected_revision=expected_revision)


def approve_deferral(
    store: Store,
    site_id: str,
    deferral_id: str,
    *,
    approver: str | None,
    approved: dt.date,
    principal: Principal,
    reason: str | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Approve a deferral. The approver is not the requester and holds a role the tier's policy
    allows to defer (segregation of duties); otherwise PermissionDenied and nothing is written.
    With user accounts the approver is the signer's linked person and the approval is signed."""
    def approve(row: dict[str, Any], data: dict[str, Any], person: str) -> dict[str, Any]:
        tp = _tier_policy(data, row["asset"])
        roles = _people_roles(data).get(person)
        if roles is None:
            raise NotFoundError(f"unknown person {person!r}: add them under 'people'")
        if not roles & set(tp.defer_roles):
            raise PermissionDenied(
                f"{person} ({', '.join(sorted(roles)) or 'no role'}) may not approve a tier-{tp.tier} deferral; "
                f"the policy allows: {', '.join(tp.defer_roles)}"
            )
        return {**row, "approver": person, "approved": approved.isoformat()}

    return mutation.approve_record(store, site_id, deferral_id, DEFERRAL_APPROVAL, approve, approver=approver,
                                   principal=principal, reason=reason, signing=signing,
                                   expected_revision=expected_revision)


DEFERRAL_APPROVAL = mutation.ApprovalKind(
    "deferrals", "deferral", "deferrals", "patch.deferral.approve", "deferral", "patch.defer.approve",
    owner_field="requested_by", owner_says="requested deferral {id}; someone else has to approve it",
)


def _patch_change_step(change: PatchChange, label: str | None = None) -> Step:
    if change.status is not ChangeStatus.PROPOSED:
        raise ConflictError(
            f"{label + ': ' if label else ''}a new patch change starts as 'proposed' (got {change.status.value!r}); "
            "approve and advance it with `zonewarden patch change approve/advance`"
        )
    new = change.model_dump(mode="json", exclude_defaults=True)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("patch_changes") or [])
        if any(r.get("id") == change.id for r in rows):
            raise ConflictError(f"patch change {change.id!r} exists already; advance it instead")
        rows.append(new)
        data["patch_changes"] = rows
        return change.id, None, new

    return Step("patch.change.record", "patch-change", mutate, label)


def record_patch_change(
    store: Store, site_id: str, change: PatchChange, *, principal: Principal, reason: str | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Open a new patch change record. It starts as 'proposed': approval, implementation and
    closure are later steps (:func:`approve_patch_change`, :func:`advance_patch_change`)."""
    return record_patch_changes(store, site_id, [change], principal=principal, reason=reason,
                                expected_revision=expected_revision, labels=[None])[0]


def record_patch_changes(
    store: Store, site_id: str, changes: Sequence[PatchChange], *, principal: Principal, reason: str | None = None,
    expected_revision: str | None = None, labels: Sequence[str | None] | None = None,
) -> list[RecordOutcome]:
    """Open several patch change records in one transaction, all or nothing (one audit event
    each; two records with the same id in one file are refused too); an error names the record
    by ``labels[i]`` (default ``records[i]``)."""
    names = _labels(labels, len(changes))
    steps = [_patch_change_step(c, n) for c, n in zip(changes, names, strict=True)]
    return apply_many(store, site_id, steps, principal=principal, operation="patch.change.record", reason=reason,
                      expected_revision=expected_revision)


def approve_patch_change(
    store: Store,
    site_id: str,
    change_id: str,
    approval: Approval,
    *,
    principal: Principal,
    reason: str | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Record an approval (or rejection) of a proposed patch change. An approval moves it to
    'approved', a rejection to 'rejected'; the approver's role must be allowed by the policy of
    every tier the change touches (checked with the whole site, nothing written otherwise).
    With user accounts ``approval.by`` must be the signer's linked person, and it is signed."""
    approver_for(store, principal, site_id, approval.by)  # refuses another person's name

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("patch_changes") or [])
        i = _find(rows, change_id, "patch change", site_id)
        row = rows[i]
        status = ChangeStatus(str(row.get("status")))
        if status is not ChangeStatus.PROPOSED:
            raise ConflictError(f"patch change {change_id} is {status.value}; only a proposed change is approved or rejected")
        if approval.decision is Decision.APPROVED and row.get("owner") == approval.by:
            raise PermissionDenied(f"{approval.by} owns patch change {change_id}; someone else has to approve it")
        roles = _people_roles(data).get(approval.by)
        if roles is None:
            raise NotFoundError(f"unknown person {approval.by!r}: add them under 'people'")
        for asset_id in row.get("assets") or []:
            tp = _tier_policy(data, asset_id)
            allowed = tp.approve_roles if approval.decision is Decision.APPROVED else tp.reject_roles
            if not roles & set(allowed):
                verb = "approve" if approval.decision is Decision.APPROVED else "reject"
                raise PermissionDenied(
                    f"{approval.by} ({', '.join(sorted(roles)) or 'no role'}) may not {verb} a tier-{tp.tier} patch "
                    f"({asset_id}); the policy allows: {', '.join(allowed)}"
                )
        new_status = ChangeStatus.APPROVED if approval.decision is Decision.APPROVED else ChangeStatus.REJECTED
        rows[i] = {
            **row,
            "approvals": [*(row.get("approvals") or []), approval.model_dump(mode="json", exclude_defaults=True)],
            "status": new_status.value,
        }
        data["patch_changes"] = rows
        return change_id, row, rows[i]

    return apply_change(store, site_id, "patch.change.approve", "patch-change", mutate, principal=principal,
                        operation="patch.change.approve", reason=reason, signing=signing,
                        expected_revision=expected_revision)


def advance_patch_change(
    store: Store,
    site_id: str,
    change_id: str,
    to: ChangeStatus,
    *,
    fields: dict[str, Any] | None = None,
    principal: Principal,
    reason: str | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Move a patch change to its next status, setting the fields that status needs.

    The move must be allowed (:data:`~zonewarden.domain.patching.TRANSITIONS`: no skipping
    approval, no reopening) and the record must satisfy the new status (implemented needs the
    approval, backup and restore test, revalidation or a no-impact determination and the
    outcome; closed needs the post-implementation review); else nothing is written.
    """
    updates = dict(fields or {})
    for key in ("id", "status", "approvals", "type"):
        if key in updates:
            raise InputError(f"{key!r} cannot be set while advancing a change")

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("patch_changes") or [])
        i = _find(rows, change_id, "patch change", site_id)
        row = rows[i]
        current = ChangeStatus(str(row.get("status")))
        if to not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final)"
            hint = " (approve it first: `zonewarden patch change approve`)" if current is ChangeStatus.PROPOSED else ""
            raise ConflictError(f"patch change {change_id} cannot go from {current.value} to {to.value}; allowed: {allowed}{hint}")
        new = {**row, **updates, "status": to.value}
        from zonewarden.io.sitefile import parse_record

        try:
            parse_record(PatchChange, new, "patch change", at=("patch_changes", i))
        except InputError as exc:
            raise InputError(f"patch change {change_id} cannot be {to.value} yet", exc.problems) from None
        rows[i] = new
        data["patch_changes"] = rows
        return change_id, row, new

    return apply_change(store, site_id, f"patch.change.{to.value}", "patch-change", mutate, principal=principal,
                        operation="patch.change.record", reason=reason, expected_revision=expected_revision)


def finding_items(store: Store, site_id: str) -> list[RemediationItem]:
    """Remediation items from advisory findings marked 'remediation planned', when the
    advisories service (issue 6) is installed; none otherwise."""
    try:
        advisories = importlib.import_module("zonewarden.services.advisories")
    except ModuleNotFoundError as exc:
        if exc.name == "zonewarden.services.advisories":
            return []
        raise
    # The caller authorized the site; this is the planner's own read of it.
    rows = advisories.list_findings(store, principal=SYSTEM, site_id=site_id, triage="remediation-planned")
    # The list carries no triage history; the decision that planned the remediation dates the
    # item (the policy clock starts there), so each planned finding is read with its history.
    return items_from_findings([advisories.get_finding(store, r.id, principal=SYSTEM) for r in rows])


def open_items(doc: SiteDocument, findings: Iterable[RemediationItem] = ()) -> list[RemediationItem]:
    """Vendor patches of the site plus finding items (see :func:`engines.patchplan.open_items`)."""
    from zonewarden.engines.patchplan import open_items as engine_open_items

    return engine_open_items(doc, findings)


__all__ = [
    "advance_patch_change",
    "approve_deferral",
    "approve_patch_change",
    "finding_items",
    "open_items",
    "record_deferral",
    "record_deferrals",
    "record_patch_change",
    "record_patch_changes",
]
