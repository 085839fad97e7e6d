"""Signed risk acceptances and change-record approvals (issue 12 item 3).

Both are approvals of a site record through the one write path (:func:`mutation.apply`): the
operation is authorized from the policy table, the signer re-authenticates (with user accounts),
the record is changed, the whole site validated, and the electronic signature is bound to the
record's content hash in the same transaction. A later edit of the risk or the change record
shows the signature as no longer matching (``zonewarden signatures``).

Separation of duties: the owner of a risk does not accept it, and the owner of a change record
(who raised and carries it out) does not approve it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from zonewarden.domain.risk import Treatment
from zonewarden.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from zonewarden.services import mutation
from zonewarden.services.principal import Principal
from zonewarden.services.requirements import _site_today
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store


def _roles_of(data: dict[str, Any], person: str) -> set[str]:
    for p in data.get("people") or []:
        if p.get("id") == person:
            return set(p.get("roles") or ())
    raise NotFoundError(f"unknown person {person!r}: add them under 'people'")


def accept_risk(
    store: Store,
    site_id: str,
    risk_id: str,
    *,
    rationale: str,
    expires: dt.date,
    principal: Principal,
    signing: Signing | None = None,
    reason: str | None = None,
    expected_revision: str | None = None,
    by: str | None = None,
) -> mutation.RecordOutcome:
    """Accept a risk until ``expires``: treatment ``accept`` and an acceptance by the signer's
    linked person (``by`` in single-user mode), given on the site's today.

    Refused (nothing written) when the acceptor owns the risk, or when ``expires`` is not after
    the site's today. Needs ``risk.accept``; with user accounts it is an electronic signature."""
    def approve(row: dict[str, Any], data: dict[str, Any], acceptor: str) -> dict[str, Any]:
        _roles_of(data, acceptor)
        today = _site_today(data)
        if expires <= today:
            raise InputError(f"--expires {expires} is not after today ({today} where the site is): "
                             "an acceptance runs until a later date")
        return {**row, "treatment": Treatment.ACCEPT.value, "acceptance": {
            "by": acceptor, "on": today.isoformat(), "rationale": rationale, "expires": expires.isoformat()}}

    return mutation.approve_record(store, site_id, risk_id, RISK_ACCEPTANCE, approve, approver=by,
                                   principal=principal, reason=reason, signing=signing,
                                   expected_revision=expected_revision)


RISK_ACCEPTANCE = mutation.ApprovalKind(
    "risks", "risk", "risks", "risk.accept", "risk", "risk.accept",
    owner_says="owns risk {id}; someone else has to accept it",
)


def approve_change(
    store: Store,
    site_id: str,
    change_id: str,
    *,
    role: str | None = None,
    comment: str | None = None,
    principal: Principal,
    signing: Signing | None = None,
    reason: str | None = None,
    expected_revision: str | None = None,
    by: str | None = None,
) -> mutation.RecordOutcome:
    """Append an approval of a change record by the signer's linked person (``by`` in
    single-user mode), on the site's today, in one of the roles that person holds (``role``;
    by default their first). The change's owner may not approve it, nor may one person approve
    it twice; a change that is no longer open (closed, rejected, cancelled) is not approved.
    Needs ``change.approve``; with user accounts it is an electronic signature."""
    def approve(row: dict[str, Any], data: dict[str, Any], approver: str) -> dict[str, Any]:
        status = str(row.get("status"))
        if status in ("closed", "rejected", "cancelled"):
            raise ConflictError(f"change {change_id} is {status}; only an open change is approved")
        approvals = list(row.get("approvals") or [])
        if any(a.get("by") == approver for a in approvals):
            raise ConflictError(f"{approver} has approved change {change_id} already")
        roles = _roles_of(data, approver)
        if not roles:
            raise PermissionDenied(f"{approver} holds no role at the site (people: roles); nobody approves without one")
        if role is not None and role not in roles:
            raise PermissionDenied(f"{approver} does not hold the role {role!r} (their roles: {', '.join(sorted(roles))})")
        entry: dict[str, Any] = {"by": approver, "on": _site_today(data).isoformat(),
                                 "role": role or sorted(roles)[0]}
        if comment:
            entry["comment"] = comment
        return {**row, "approvals": [*approvals, entry]}

    return mutation.approve_record(store, site_id, change_id, CHANGE_APPROVAL, approve, approver=by,
                                   principal=principal, reason=reason, signing=signing,
                                   expected_revision=expected_revision)


CHANGE_APPROVAL = mutation.ApprovalKind(
    "changes", "change record", "change records", "change.approve", "change", "change.approve",
    owner_says="owns change {id}; someone else has to approve it",
)


__all__ = ["accept_risk", "approve_change"]
