"""Requirement use cases: set a zone's (or conduit's) status for an SR/RE, record and approve
compensating controls.

Each is one transaction: read the stored site, change one record, validate the whole site again
(so a status can never point at a control that does not exist), write it back and append one
audit event with the record before and after. Nothing is written when validation fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select

from zonewarden.clock import site_today
from zonewarden.domain.requirements import CompensatingControl, RequirementStatus
from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.errors import InputError, NotFoundError, PermissionDenied
from zonewarden.runtime import gc_paused
from zonewarden.services import audit, identity, signatures
from zonewarden.services import sites as site_service
from zonewarden.services.principal import Principal
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store
from zonewarden.store.tables import sites


@dataclass(frozen=True)
class RecordOutcome:
    """What one write did."""

    site_id: str
    action: str
    object_id: str
    created: bool
    """True when the record is new, False when an existing one was replaced."""
    before: dict[str, Any] | None
    after: dict[str, Any]
    audit_seq: int


Mutation = Callable[[dict[str, Any]], tuple[str, dict[str, Any] | None, dict[str, Any]]]
"""Changes the site data in place; returns (object id, record before, record after)."""


def _validate(data: dict[str, Any]) -> SiteDocument:
    from zonewarden.io.sitefile import pydantic_problems

    try:
        doc = SiteDocument.model_validate(data, context={"defer_references": True})
    except ValidationError as exc:
        raise InputError("the change would make the site invalid", pydantic_problems(exc)) from None
    problems = reference_problems(doc)
    if problems:
        raise InputError("the change would make the site invalid", problems)
    return doc


def _apply(
    store: Store,
    site_id: str,
    action: str,
    object_type: str,
    mutate: Mutation,
    *,
    principal: Principal,
    operation: str,
    reason: str | None,
    evidence: Mapping[str, bytes] | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """The one write path for a site's records: authorize ``operation`` (a denial is recorded),
    re-authenticate a signer, then in one transaction lock the site, read it, ``mutate`` it,
    validate the whole site, write it back and append the audit event (and, for an approval by
    an authenticated person, its electronic signature). The lock comes before the read, so two
    concurrent writers cannot both change the same old copy (the second waits and sees the
    first's change); the audit event commits with the change or not at all."""
    identity.authorize(store, principal, operation, site_id)
    signer = signatures.confirm(store, principal, operation, signing)
    now = dt.datetime.now(dt.UTC)
    with gc_paused(), store.transaction() as conn:  # a large site's read, validation and dump
        if site_service.lock_site(conn, site_id, expected_revision=expected_revision) is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        data = site_service._stored_data(conn, site_id)  # same package: the site service's reader
        if data is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        stored = site_service.section_prints(data)  # before the change: what _write compares
        old_hash = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id)).scalar()
        object_id, before, after = mutate(data)
        doc = _validate(data)
        clean = doc.model_dump(mode="json", exclude_defaults=True)
        digest = hashlib.sha256(orjson.dumps(clean, option=orjson.OPT_SORT_KEYS)).hexdigest()
        site_service._write(conn, doc, clean, digest, now, evidence, stored=stored)
        from zonewarden.services.advisories import carry_match_state

        carry_match_state(conn, site_id, old_hash, digest)  # records only: findings stay current
        event = audit.append(
            conn,
            action=action,
            **audit.with_site_digest(principal.audit_fields, digest),  # the state it produced: audit verify
            site_id=site_id,
            object_type=object_type,
            object_id=object_id,
            reason=reason,
            before=before,
            after=after,
            at=now,
        )
        if signing is not None and signatures.needs_signature(signer, operation):
            # Bound to the record as stored (normalised by validation), so the hash a reader
            # recomputes from the database is the one signed.
            signed = signatures.site_records(clean).get((object_type, object_id)) or after
            audit.append(conn, **signatures.signature_event(  # type: ignore[arg-type]
                signer, operation, site_id, doc.site.timezone, signing, object_type, object_id, signed, now))
    return RecordOutcome(site_id, action, object_id, before is None, before, after, event.seq)


APPROVAL_FIELDS = ("approver", "approved")


def refuse_typed_approval(principal: Principal, what: str, ident: str, before: Mapping[str, Any] | None,
                          new: Mapping[str, Any], command: str) -> None:
    """With user accounts an approval is an electronic signature: a record written with an
    approval it did not have (or another one) is refused, naming the command that signs."""
    if principal.local:
        return
    old = {k: (before or {}).get(k) for k in APPROVAL_FIELDS}
    if any(new.get(k) != old[k] for k in APPROVAL_FIELDS if new.get(k) is not None):
        raise PermissionDenied(
            f"{what} {ident}: an approval cannot be written into the record; "
            f"the approver signs it with `zonewarden {command}`"
        )


def approver_for(store: Store, principal: Principal, site_id: str, approver: str | None) -> str:
    """The person (of the site's ``people``) an approval is recorded for.

    In single-user mode it is the person named (required). An authenticated user approves as
    the person their account is linked to: naming another person is refused, so nobody can
    type a colleague's name into an approval."""
    if principal.local:
        if not approver:
            raise InputError("name the approving person (a person id of the site's people)")
        return approver
    with store.read() as conn:
        linked = identity.person_of(conn, site_id, principal.user_id)
    if linked is None:
        raise PermissionDenied(
            f"user {principal.user_id} is not linked to a person of site {site_id}; "
            "an administrator links them with `zonewarden user link`"
        )
    if approver and approver != linked:
        raise PermissionDenied(f"user {principal.user_id} signs as {linked}, not as {approver}")
    return linked


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

    return _apply(
        store, site_id, "compensating-control.record", "compensating-control", mutate,
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
    approver = approver_for(store, principal, site_id, approver)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        rows: list[dict[str, Any]] = list(data.get("compensating_controls") or [])
        for i, row in enumerate(rows):
            if row.get("id") == control_id:
                if row.get("owner") == approver:
                    raise PermissionDenied(
                        f"{approver} owns compensating control {control_id}; someone else has to approve it"
                    )
                rows[i] = {**row, "approver": approver, "approved": approved.isoformat()}
                data["compensating_controls"] = rows
                return control_id, row, rows[i]
        known = ", ".join(sorted(r.get("id", "?") for r in rows)) or "none recorded"
        raise NotFoundError(f"no compensating control {control_id!r} in site {site_id!r} (controls: {known})")

    return _apply(
        store, site_id, "compensating-control.approve", "compensating-control", mutate,
        principal=principal, operation="compensation.approve", reason=reason, signing=signing,
        expected_revision=expected_revision,
    )


__all__ = [
    "RecordOutcome",
    "approver_for",
    "approve_compensating_control",
    "record_compensating_control",
    "set_requirement_status",
]
