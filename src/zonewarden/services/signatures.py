"""Electronic signatures on approvals and acceptances (21 CFR Part 11 / EU GMP Annex 11 style).

An approval made by an authenticated person is signed: the signer re-authenticates at the
moment of signing (password, and the TOTP code when the account has one), states the meaning
(``approved as quality``), and the signature records the signer's id and full name, the time in
UTC and in the site's time zone, and the SHA-256 of the signed record's canonical JSON. It is
an audit event (``signature.apply``) in the hash-chained trail, written in the same transaction
as the approval, so it cannot exist without it. A later edit of the record changes the record's
hash: the signature is then shown as no longer matching, never silently carried over.

In single-user mode (no accounts) there is nobody to authenticate: approvals are recorded as
before, and shown as unsigned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from zonewarden.errors import PermissionDenied
from zonewarden.services import access
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.tables import audit_events

ACTION = "signature.apply"

#: The operations whose records are signed when an authenticated person performs them.
SIGNED_OPERATIONS = frozenset({
    "compensation.approve", "risk.accept", "waiver.approve", "finding.close",
    "patch.defer.approve", "patch.change.approve", "report.approve", "change.approve", "vex.accept",
})


@dataclass(frozen=True, slots=True)
class Signing:
    """What a person gives at the moment of signing."""

    password: str
    totp: str | None = None
    meaning: str | None = None
    """What the signature means, e.g. ``approved as quality``; by default ``approved as <role>``
    from the approver roles the signer holds on the site."""


@dataclass(frozen=True, slots=True)
class SignatureView:
    """A recorded signature and whether it still matches the record it signed."""

    seq: int
    signer: str
    full_name: str | None
    meaning: str
    signed_at: str
    """UTC, ISO 8601."""
    signed_at_local: str
    """The same instant in the site's time zone (ISO 8601 with offset)."""
    content_hash: str
    object_type: str
    object_id: str
    status: str
    """``valid`` (the record is unchanged since it was signed), ``no longer matches`` or
    ``record removed``."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "signer": self.signer, "full_name": self.full_name, "meaning": self.meaning,
            "signed_at": self.signed_at, "signed_at_local": self.signed_at_local,
            "content_hash": self.content_hash, "object_type": self.object_type, "object_id": self.object_id,
            "status": self.status,
        }

    def line(self) -> str:
        """One line for a terminal or a report."""
        who = f"{self.full_name} ({self.signer})" if self.full_name else self.signer
        return f"signed by {who}, {self.meaning}, {self.signed_at_local}: {self.status}"


def record_hash(record: Mapping[str, Any] | None) -> str:
    """SHA-256 of a record's canonical JSON (sorted keys): what a signature is bound to."""
    return hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()


def needs_signature(principal: Principal, operation: str) -> bool:
    """An authenticated person's approval is signed; the single local user's is not (nobody to
    authenticate), nor the system's own jobs."""
    return operation in SIGNED_OPERATIONS and not principal.local


def confirm(store: Store, principal: Principal, operation: str, signing: Signing | None) -> Principal:
    """Re-authenticate the signer before an approval; raises :class:`PermissionDenied` when no
    credential was given and ``AuthenticationError`` (recorded) when it is wrong."""
    if not needs_signature(principal, operation):
        return principal
    if signing is None:
        raise PermissionDenied(
            f"{operation} is an electronic signature: re-enter your password to sign "
            "(--password-stdin, and --totp CODE if your account has a second factor)"
        )
    from zonewarden.services import identity

    return identity.reauthenticate(store, principal, signing.password, signing.totp)


def default_meaning(principal: Principal, operation: str, site_id: str) -> str:
    roles = sorted(r for r in principal.roles_on(site_id) if operation in access.POLICY.get(r, frozenset()))
    preferred = [r for r in roles if r in access.APPROVER_ROLES] or roles
    return f"approved as {preferred[0]}" if preferred else "approved"


def signature_event(
    principal: Principal, operation: str, site_id: str, timezone: str | None, signing: Signing,
    object_type: str, object_id: str, record: Mapping[str, Any], at: dt.datetime,
) -> dict[str, Any]:
    """The keyword arguments of ``audit.append`` for the signature of ``record``."""
    local = at.astimezone(zoneinfo.ZoneInfo(timezone or "UTC"))
    meaning = signing.meaning or default_meaning(principal, operation, site_id)
    return dict(
        action=ACTION, **principal.audit_fields, site_id=site_id, object_type=object_type, object_id=object_id,
        after={
            "signer": principal.user_id, "full_name": principal.full_name, "meaning": meaning,
            "operation": operation, "signed_at": at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "signed_at_local": local.isoformat(timespec="seconds"), "timezone": timezone or "UTC",
            "content_hash": record_hash(record), "method": principal.method,
        },
        at=at,
    )


def _views(rows: Iterable[Any], current: Mapping[tuple[str, str], Mapping[str, Any] | None]) -> list[SignatureView]:
    out = []
    for row in rows:
        sig = row.after or {}
        key = (row.object_type, row.object_id)
        record = current.get(key)
        if record is None:
            status = "record removed"
        elif record_hash(record) == sig.get("content_hash"):
            status = "valid"
        else:
            status = "no longer matches"
        out.append(SignatureView(
            row.seq, sig.get("signer", row.actor), sig.get("full_name"), sig.get("meaning", ""),
            sig.get("signed_at", ""), sig.get("signed_at_local", ""), sig.get("content_hash", ""),
            row.object_type, row.object_id, status,
        ))
    return out


def signatures_of(
    conn: Connection, site_id: str, records: Mapping[tuple[str, str], Mapping[str, Any] | None],
    object_type: str | None = None, object_id: str | None = None,
) -> list[SignatureView]:
    """The signatures recorded on a site (optionally one object), each checked against the
    current record in ``records`` (``(object_type, object_id) -> record``)."""
    t = audit_events.c
    stmt = select(t.seq, t.actor, t.object_type, t.object_id, t.after).where(
        t.action == ACTION, t.site_id == site_id
    ).order_by(t.seq)
    if object_type is not None:
        stmt = stmt.where(t.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(t.object_id == object_id)
    return _views(conn.execute(stmt), records)


SIGNED_SECTIONS = {
    "compensating-control": "compensating_controls",
    "deferral": "deferrals",
    "patch-change": "patch_changes",
    "waiver": "waivers",
    "risk": "risks",
    "change": "changes",
}
"""Object type of a signed site record -> the site-data section that holds it (by ``id``)."""


def site_records(data: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any] | None]:
    """The signable records of a site's data, keyed as signatures name them."""
    out: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for object_type, section in SIGNED_SECTIONS.items():
        rows = data.get(section) or []
        if section == "waivers":
            rows = (data.get("checks") or {}).get("waivers") or []
        for row in rows:
            if isinstance(row, Mapping) and row.get("id") is not None:
                out[(object_type, str(row["id"]))] = row
    return out


def _finding_records(conn: Connection, finding_ids: Iterable[str]) -> dict[tuple[str, str], Mapping[str, Any] | None]:
    """The current triage decision of each finding, as its signature recorded it."""
    from zonewarden.services.advisories import decision_record
    from zonewarden.store.advisory_tables import findings, triage_decisions

    out: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for fid in finding_ids:
        try:
            ident = int(fid)
        except ValueError:
            continue
        row = conn.execute(select(findings).where(findings.c.id == ident)).first()
        if row is None:
            continue
        last = conn.execute(select(triage_decisions.c.controls).where(triage_decisions.c.finding_id == ident)
                            .order_by(triage_decisions.c.id.desc()).limit(1)).first()
        out[("finding", fid)] = decision_record(
            row.triage_status, row.triage_owner, row.triage_expires, tuple(last.controls or ()) if last else (),
            row.tracking_id, row.asset_id,
        )
    return out


def list_signatures(store: Store, principal: Principal, site_id: str, object_id: str | None = None) -> list[SignatureView]:
    """The electronic signatures recorded on a site (or on one of its records), each checked
    against the record as it is now."""
    from zonewarden.services import identity
    from zonewarden.services.sites import _stored_data

    identity.authorize(store, principal, "site.read", site_id)
    with store.read() as conn:
        records = site_records(_stored_data(conn, site_id) or {})
        t = audit_events.c
        finding_ids = {r.object_id for r in conn.execute(
            select(t.object_id).where(t.action == ACTION, t.site_id == site_id, t.object_type == "finding"))}
        records.update(_finding_records(conn, finding_ids))
        return signatures_of(conn, site_id, records, object_id=object_id)


__all__ = [
    "SIGNED_OPERATIONS",
    "SignatureView",
    "Signing",
    "confirm",
    "list_signatures",
    "needs_signature",
    "record_hash",
    "signature_event",
    "signatures_of",
    "site_records",
]
