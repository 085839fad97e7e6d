"""The one write path for a site's records (the **Mutation** mechanism).

Every use case that changes one record of a stored site (a requirement status, a compensating
control, a deferral, a patch change, a risk, a zone, an asset...) goes through :func:`apply`:
authorize the operation (a denial is recorded), then in one transaction lock the site (checking
the revision the caller edits), read it, change it in place with a :data:`Mutation`, validate the
whole site again, write it back and append one audit event with the record before and after.
Nothing is written when any step fails. A command that records several records (a file of
deferrals, controls, patch changes) uses :func:`apply_many`: the same steps for all records in
one transaction, one audit event per record, nothing written when any record fails.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select

from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.errors import (
    InputError,
    NotFoundError,
    PermissionDenied,
    StaleRevisionError,
    ZonewardenError,
)
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
    """True when the record is new, False when an existing one was replaced (or removed)."""
    before: dict[str, Any] | None
    after: dict[str, Any]
    """The record as written; empty when it was removed (the audit event's ``after`` is null)."""
    audit_seq: int


Mutation = Callable[[dict[str, Any]], tuple[str, dict[str, Any] | None, dict[str, Any] | None]]
"""Changes the site data in place; returns (object id, record before, record after). ``after``
is None when the record was removed."""

Explain = Callable[[InputError, dict[str, Any]], InputError]
"""Turns the whole-site validation's error into one that says what to do (e.g. name the records
that still refer to a removed one); gets the changed site data."""


def validate_site(data: dict[str, Any]) -> SiteDocument:
    """The whole site, validated with its references; InputError with field paths otherwise."""
    from zonewarden.io.sitefile import pydantic_problems

    try:
        doc = SiteDocument.model_validate(data, context={"defer_references": True})
    except ValidationError as exc:
        raise InputError("the change would make the site invalid", pydantic_problems(exc)) from None
    problems = reference_problems(doc)
    if problems:
        raise InputError("the change would make the site invalid", problems)
    return doc


@dataclass(frozen=True)
class Step:
    """One record's change in a write of several records (:func:`apply_many`)."""

    action: str
    object_type: str
    mutate: Mutation
    label: str | None = None
    """Where the record came from, for errors: ``file.yaml:12`` or ``records[2]``."""


def _named(exc: ZonewardenError, label: str | None, count: int) -> ZonewardenError:
    """``exc`` with its message prefixed by the record it is about (same type, same problems)
    and, for a write of several records, saying that none of them was written."""
    if label is None or isinstance(exc, StaleRevisionError):
        return exc
    message = f"{label}: {exc.args[0] if exc.args else exc}"
    if count > 1:
        message += f" (none of the {count} records was written)"
    if isinstance(exc, InputError):
        return type(exc)(message, exc.problems)
    try:
        return type(exc)(message)
    except TypeError:  # an error type with its own constructor: keep it as it is
        return exc


def _first_invalid(original: dict[str, Any], steps: Sequence[Step]) -> int:
    """Index of the first step after which the site no longer validates (replayed on a copy of
    the data as read); the last step when only the sum of them is invalid."""
    data = copy.deepcopy(original)
    for i, step in enumerate(steps):
        step.mutate(data)
        try:
            validate_site(data)
        except InputError:
            return i
    return len(steps) - 1


def apply(
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
    explain: Explain | None = None,
) -> RecordOutcome:
    """The one write path for a site's records: authorize ``operation`` (a denial is recorded),
    re-authenticate a signer, then in one transaction lock the site, read it, ``mutate`` it,
    validate the whole site, write it back and append the audit event (and, for an approval by
    an authenticated person, its electronic signature). The lock comes before the read, so two
    concurrent writers cannot both change the same old copy (the second waits and sees the
    first's change); the audit event commits with the change or not at all."""
    return apply_many(
        store, site_id, [Step(action, object_type, mutate)], principal=principal, operation=operation,
        reason=reason, evidence=evidence, signing=signing, expected_revision=expected_revision, explain=explain,
    )[0]


def apply_many(
    store: Store,
    site_id: str,
    steps: Sequence[Step],
    *,
    principal: Principal,
    operation: str,
    reason: str | None,
    evidence: Mapping[str, bytes] | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
    explain: Explain | None = None,
) -> list[RecordOutcome]:
    """:func:`apply` for several records at once, all or nothing: one authorization, one lock
    (checking ``expected_revision`` once, before the first record), every ``steps`` mutation in
    order on the same data, one validation of the whole site, one write and one audit event per
    record, all in one transaction. When any record fails (its own check, the validation, a
    reference) nothing is written and the error names the record by its ``label``."""
    if not steps:
        return []
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
        original = copy.deepcopy(data) if len(steps) > 1 else None  # to name the record that broke it
        changes: list[tuple[Step, str, dict[str, Any] | None, dict[str, Any] | None]] = []
        for step in steps:
            try:
                object_id, before, after = step.mutate(data)
            except ZonewardenError as exc:
                if step.label is None:
                    raise
                raise _named(exc, step.label, len(steps)) from None
            changes.append((step, object_id, before, after))
        try:
            doc = validate_site(data)
        except InputError as exc:
            failed = steps[_first_invalid(original, steps)] if original is not None else steps[0]
            err = exc if explain is None else explain(exc, data)
            raise _named(err, failed.label, len(steps)) from None
        clean = doc.model_dump(mode="json", exclude_defaults=True)
        digest = hashlib.sha256(orjson.dumps(clean, option=orjson.OPT_SORT_KEYS)).hexdigest()
        site_service._write(conn, doc, clean, digest, now, evidence, stored=stored)
        from zonewarden.services.advisories import carry_match_state

        carry_match_state(conn, site_id, old_hash, digest)  # records only: findings stay current
        outcomes: list[RecordOutcome] = []
        for step, object_id, before, after in changes:
            event = audit.append(
                conn,
                action=step.action,
                **audit.with_site_digest(principal.audit_fields, digest),  # the state it produced: audit verify
                site_id=site_id,
                object_type=step.object_type,
                object_id=object_id,
                reason=reason,
                before=before,
                after=after,
                at=now,
            )
            if signing is not None and signatures.needs_signature(signer, operation):
                # Bound to the record as stored (normalised by validation), so the hash a reader
                # recomputes from the database is the one signed.
                signed = signatures.site_records(clean).get((step.object_type, object_id)) or after or {}
                audit.append(conn, **signatures.signature_event(  # type: ignore[arg-type]
                    signer, operation, site_id, doc.site.timezone, signing, step.object_type, object_id, signed, now))
            outcomes.append(RecordOutcome(site_id, step.action, object_id, before is None, before, after or {},
                                          event.seq))
    return outcomes


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


def find_record(rows: Sequence[Mapping[str, Any]], ident: str, what: str, site_id: str,
                plural: str | None = None) -> int:
    """Index of the record ``ident`` of a site section; NotFoundError naming the known ids."""
    for i, row in enumerate(rows):
        if row.get("id") == ident:
            return i
    known = ", ".join(sorted(str(r["id"]) for r in rows if r.get("id") is not None)) or "none recorded"
    raise NotFoundError(f"no {what} {ident!r} in site {site_id!r} ({plural or what + 's'}: {known})")


@dataclass(frozen=True)
class ApprovalKind:
    """One kind of site record that a person other than its owner approves (signs off)."""

    section: str
    """The site-data list that holds the record (by ``id``); ``checks.waivers`` for a nested one."""
    noun: str
    """What the record is called in a not-found message (``compensating control``)."""
    plural: str
    """Its plural in that message (``controls``: the list of known ids)."""
    action: str
    """The audit event's action."""
    object_type: str
    operation: str
    """The policy operation (``compensation.approve``): authorized first, signed when listed in
    ``signatures.SIGNED_OPERATIONS``."""
    owner_field: str = "owner"
    """The field naming the person who may not approve their own record."""
    owner_says: str = "owns {noun} {id}; someone else has to approve it"
    """The refusal when the approver is that person (after their id)."""


Approve = Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]]
"""``approve(row, data, approver) -> new row``: the kind's own checks (raise to refuse) and the
approval written into a copy of the record."""


def _section(data: dict[str, Any], section: str) -> tuple[dict[str, Any], str]:
    parent, _, leaf = section.rpartition(".")
    if not parent:
        return data, leaf
    holder = dict(data.get(parent) or {})
    data[parent] = holder
    return holder, leaf


def approve_record(
    store: Store,
    site_id: str,
    record_id: str,
    kind: ApprovalKind,
    approve: Approve,
    *,
    approver: str | None,
    principal: Principal,
    reason: str | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """The one approval path (compensating controls, deferrals, risk acceptances, change
    approvals, waivers): authorize ``kind.operation`` (a denial is recorded) before anything
    else, resolve the approving person (:func:`approver_for`: the signer's linked person with
    user accounts), then through :func:`apply` find the record, refuse its owner (separation of
    duties), let ``approve`` check and write the approval, and sign it in the same transaction."""
    identity.authorize(store, principal, kind.operation, site_id)  # the role before who signs
    person = approver_for(store, principal, site_id, approver)

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        holder, leaf = _section(data, kind.section)
        rows: list[dict[str, Any]] = list(holder.get(leaf) or [])
        i = find_record(rows, record_id, kind.noun, site_id, kind.plural)
        row = rows[i]
        if row.get(kind.owner_field) == person:
            raise PermissionDenied(f"{person} " + kind.owner_says.format(noun=kind.noun, id=record_id))
        rows[i] = approve(row, data, person)
        holder[leaf] = rows
        return record_id, row, rows[i]

    return apply(store, site_id, kind.action, kind.object_type, mutate, principal=principal,
                 operation=kind.operation, reason=reason, signing=signing, expected_revision=expected_revision)


__all__ = ["Approve", "ApprovalKind", "Explain", "Mutation", "RecordOutcome", "Step", "apply", "apply_many",
           "approve_record", "approver_for", "find_record", "validate_site"]
