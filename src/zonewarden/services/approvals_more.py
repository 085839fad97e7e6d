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
from zonewarden.services import identity, mutation
from zonewarden.services.principal import Principal
from zonewarden.services.requirements import _site_today, approver_for
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store


def _find(rows: list[dict[str, Any]], ident: str, what: str, site_id: str) -> int:
    for i, row in enumerate(rows):
        if row.get("id") == ident:
            return i
    known = ", ".join(sorted(str(r.get("id")) for r in rows)) or "none recorded"
    raise NotFoundError(f"no {what} {ident!r} in site {site_id!r} ({what}s: {known})")


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
    identity.authorize(store, principal, "risk.accept", site_id)  # the role before who signs
    acceptor = approver_for(store, principal, site_id, by)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("risks") or [])
        i = _find(rows, risk_id, "risk", site_id)
        row = rows[i]
        if row.get("owner") == acceptor:
            raise PermissionDenied(f"{acceptor} owns risk {risk_id}; someone else has to accept it")
        _roles_of(data, acceptor)
        today = _site_today(data)
        if expires <= today:
            raise InputError(f"--expires {expires} is not after today ({today} where the site is): "
                             "an acceptance runs until a later date")
        rows[i] = {**row, "treatment": Treatment.ACCEPT.value, "acceptance": {
            "by": acceptor, "on": today.isoformat(), "rationale": rationale, "expires": expires.isoformat()}}
        data["risks"] = rows
        return risk_id, row, rows[i]

    return mutation.apply(store, site_id, "risk.accept", "risk", mutate, principal=principal,
                          operation="risk.accept", reason=reason, signing=signing,
                          expected_revision=expected_revision)


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
    identity.authorize(store, principal, "change.approve", site_id)
    approver = approver_for(store, principal, site_id, by)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("changes") or [])
        i = _find(rows, change_id, "change record", site_id)
        row = rows[i]
        if row.get("owner") == approver:
            raise PermissionDenied(f"{approver} owns change {change_id}; someone else has to approve it")
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
        rows[i] = {**row, "approvals": [*approvals, entry]}
        data["changes"] = rows
        return change_id, row, rows[i]

    return mutation.apply(store, site_id, "change.approve", "change", mutate, principal=principal,
                          operation="change.approve", reason=reason, signing=signing,
                          expected_revision=expected_revision)


__all__ = ["accept_risk", "approve_change"]
