"""Requirement use cases: set a zone's (or conduit's) status for an SR/RE, record and approve
compensating controls.

Each is one transaction: read the stored site, change one record, validate the whole site again
(so a status can never point at a control that does not exist), write it back and append one
audit event with the record before and after. Nothing is written when validation fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from zonewarden.domain.requirements import CompensatingControl, RequirementStatus
from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.errors import InputError, NotFoundError, PermissionDenied
from zonewarden.runtime import gc_paused
from zonewarden.services import audit
from zonewarden.services import sites as site_service
from zonewarden.store.db import Store


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
    actor: str | None,
    reason: str | None,
    evidence: Mapping[str, bytes] | None = None,
    expected_revision: str | None = None,
) -> RecordOutcome:
    """The one write path for site records: lock the site, read it, change it, validate,
    write and audit, in one transaction. The lock comes before the read, so two concurrent
    writers cannot both change the same old copy (the second waits and sees the first's
    change); the audit event commits with the change or not at all."""
    now = dt.datetime.now(dt.UTC)
    with gc_paused(), store.transaction() as conn:  # a large site's read, validation and dump
        if site_service.lock_site(conn, site_id, expected_revision=expected_revision) is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        data = site_service._stored_data(conn, site_id)  # same package: the site service's reader
        if data is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        stored = site_service.section_prints(data)  # before the change: what _write compares
        object_id, before, after = mutate(data)
        doc = _validate(data)
        clean = doc.model_dump(mode="json", exclude_defaults=True)
        digest = hashlib.sha256(orjson.dumps(clean, option=orjson.OPT_SORT_KEYS)).hexdigest()
        site_service._write(conn, doc, clean, digest, now, evidence, stored=stored)
        event = audit.append(
            conn,
            action=action,
            actor=actor,
            site_id=site_id,
            object_type=object_type,
            object_id=object_id,
            reason=reason,
            before=before,
            after=after,
            at=now,
            context={audit.SITE_DIGEST: digest},  # the state this event produced (audit verify)
        )
    return RecordOutcome(site_id, action, object_id, before is None, before, after, event.seq)


def _site_today(data: Mapping[str, Any]) -> dt.date:
    zone = (data.get("site") or {}).get("timezone") or "UTC"
    return dt.datetime.now(zoneinfo.ZoneInfo(zone)).date()


def set_requirement_status(
    store: Store,
    site_id: str,
    status: RequirementStatus,
    *,
    actor: str | None = None,
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

    return _apply(store, site_id, "requirement.set-status", "requirement-status", mutate, actor=actor, reason=reason,
                  evidence=evidence, expected_revision=expected_revision)


def record_compensating_control(
    store: Store,
    site_id: str,
    control: CompensatingControl,
    *,
    actor: str | None = None,
    reason: str | None = None,
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
        data["compensating_controls"] = rows
        return control.id, before, new

    return _apply(
        store, site_id, "compensating-control.record", "compensating-control", mutate, actor=actor, reason=reason
    )


def approve_compensating_control(
    store: Store,
    site_id: str,
    control_id: str,
    *,
    approver: str,
    approved: dt.date,
    actor: str | None = None,
    reason: str | None = None,
) -> RecordOutcome:
    """Record the approval of a compensating control.

    The approver must not be the control's owner: someone other than the person who wants the
    departure signs it off (segregation of duties, IEC 62443-2-1 / ISO 27001 A.5.3).
    """

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
        store, site_id, "compensating-control.approve", "compensating-control", mutate, actor=actor, reason=reason
    )


__all__ = [
    "RecordOutcome",
    "approve_compensating_control",
    "record_compensating_control",
    "set_requirement_status",
]
