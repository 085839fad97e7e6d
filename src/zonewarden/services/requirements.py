"""Requirement use cases: set a zone's (or conduit's) status for an SR/RE, record and approve
compensating controls.

Each is one transaction: read the stored site, change one record (or, for a file of controls,
all of them), validate the whole site again (so a status can never point at a control that does
not exist), write it back and append one audit event per record with the record before and
after. Nothing is written when validation fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from zonewarden.clock import site_today
from zonewarden.domain.requirements import CompensatingControl, RequirementStatus
from zonewarden.errors import PermissionDenied
from zonewarden.services import mutation
from zonewarden.services.principal import Principal
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store

# The one write path for a site's records lives in services/mutation.py (shared with the
# patching and site-edit services); these names stay importable from here.
RecordOutcome = mutation.RecordOutcome
Mutation = mutation.Mutation
_validate = mutation.validate_site
_apply = mutation.apply


APPROVAL_FIELDS = ("approver", "approved")


def refuse_typed_approval(principal: Principal, what: str, ident: str, before: Mapping[str, Any] | None,
                          new: Mapping[str, Any], command: str, fields: Sequence[str] = APPROVAL_FIELDS) -> None:
    """With user accounts an approval is an electronic signature: a record written with an
    approval it did not have (or another one) is refused, naming the command that signs."""
    if principal.local:
        return
    old = {k: (before or {}).get(k) for k in fields}
    if any(new.get(k) != old[k] for k in fields if new.get(k) is not None):
        raise PermissionDenied(
            f"{what} {ident}: an approval cannot be written into the record; "
            f"the approver signs it with `zonewarden {command}`"
        )


approver_for = mutation.approver_for  # moved to the one approval path; importable from here


def _site_today(data: Mapping[str, Any]) -> dt.date:
    return site_today((data.get("site") or {}).get("timezone"))


def set_requirement_status(
    store: Store,
    site_id: str,
    status: RequirementStatus,
    *,
    principal: Principal,
    reason: str | None = None,
    evidence: Mapping[str, bytes] | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Set (add or replace) the status of one requirement for one zone or conduit.

    ``evidence`` holds the bytes of evidence files the status names (path -> bytes, hashes
    already in the status): they are stored with the site, so an export writes them back."""
    given = status.model_dump(mode="json", exclude_defaults=True)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        # Setting a status is confirming it: without a date given, it was assessed today (the
        # site's today, in its time zone).
        new = given if "assessed" in given else {**given, "assessed": _site_today(data).isoformat()}
        rows: list[dict[str, Any]] = list(data.get("requirements") or [])
        before = None
        for i, row in enumerate(rows):
            if row.get("target") == status.target and row.get("requirement") == status.requirement:
                before = row
                rows[i] = new
                break
        else:
            rows.append(new)
        data["requirements"] = rows
        return f"{status.target}/{status.requirement}", before, new

    return _apply(store, site_id, "requirement.set-status", "requirement-status", mutate, principal=principal,
                  operation="requirement.set", reason=reason, evidence=evidence, expected_revision=expected_revision)


def _control_step(control: CompensatingControl, principal: Principal, label: str | None = None) -> mutation.Step:
    new = control.model_dump(mode="json", exclude_defaults=True)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("compensating_controls") or [])
        before = None
        for i, row in enumerate(rows):
            if row.get("id") == control.id:
                before = row
                rows[i] = new
                break
        else:
            rows.append(new)
        refuse_typed_approval(principal, "compensating control", control.id, before, new, "compensation approve")
        data["compensating_controls"] = rows
        return control.id, before, new

    return mutation.Step("compensating-control.record", "compensating-control", mutate, label)


def record_compensating_control(
    store: Store,
    site_id: str,
    control: CompensatingControl,
    *,
    principal: Principal,
    reason: str | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Add a compensating control, or replace the one with the same id."""
    return record_compensating_controls(store, site_id, [control], principal=principal, reason=reason,
                                        expected_revision=expected_revision, labels=[None])[0]


def record_compensating_controls(
    store: Store,
    site_id: str,
    controls: Sequence[CompensatingControl],
    *,
    principal: Principal,
    reason: str | None = None,
    expected_revision: str | None = None,
    labels: Sequence[str | None] | None = None,
) -> list[RecordOutcome]:
    """Add or replace several compensating controls in one transaction, all or nothing (one
    audit event each); an error names the record by ``labels[i]`` (default ``records[i]``)."""
    names = list(labels) if labels is not None else [f"records[{i}]" for i in range(len(controls))]
    return mutation.apply_many(
        store, site_id, [_control_step(c, principal, n) for c, n in zip(controls, names, strict=True)],
        principal=principal, operation="compensation.record", reason=reason, expected_revision=expected_revision,
    )


def approve_compensating_control(
    store: Store,
    site_id: str,
    control_id: str,
    *,
    approver: str | None,
    approved: dt.date,
    principal: Principal,
    reason: str | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """Record the approval of a compensating control.

    The approver must not be the control's owner: someone other than the person who wants the
    departure signs it off (segregation of duties, IEC 62443-2-1 / ISO 27001 A.5.3). With user
    accounts the approver is the signer's linked person and the approval is an electronic
    signature (``signing``).
    """
    def approve(row: dict[str, Any], data: dict[str, Any], person: str) -> dict[str, Any]:
        return {**row, "approver": person, "approved": approved.isoformat()}

    return mutation.approve_record(
        store, site_id, control_id, COMPENSATION_APPROVAL, approve, approver=approver, principal=principal,
        reason=reason, signing=signing, expected_revision=expected_revision,
    )


COMPENSATION_APPROVAL = mutation.ApprovalKind(
    "compensating_controls", "compensating control", "controls", "compensating-control.approve",
    "compensating-control", "compensation.approve",
)


__all__ = [
    "RecordOutcome",
    "approver_for",
    "approve_compensating_control",
    "record_compensating_control",
    "record_compensating_controls",
    "set_requirement_status",
]
