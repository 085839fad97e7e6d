"""Document control of evidence packages: issuing a numbered version and approving it.

``report --issue`` records an *issue*: version 1, 2, ... per site and audience, status
``draft``, who issued it, the recipient and agreement of a customer package, and the site data
it was built from (the next issue's revision history is the site diff since this one).
``report-approve`` turns a draft into ``approved``; the approver is someone other than the
issuer (segregation of duties), and with user accounts the approval is an electronic signature
(:mod:`zonewarden.services.signatures`, operation ``report.approve``).

Authorization: ``report.issue`` (engineers, admin) and ``report.approve`` (approver roles) in
the policy table :mod:`zonewarden.services.access`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from zonewarden.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from zonewarden.services import audit, identity, signatures
from zonewarden.services.principal import Principal
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store
from zonewarden.store.package_tables import package_issues

AUDIENCES = ("auditor", "customer")
OBJECT_TYPE = "package"


def document_id(site_id: str, audience: str) -> str:
    """Stable per site and audience; the version tells the issues apart."""
    return f"ZW-{site_id}-{'AUD' if audience == 'auditor' else 'CUS'}"


@dataclass(frozen=True, slots=True)
class IssueRecord:
    site_id: str
    audience: str
    version: int
    document_id: str
    status: str
    as_of: dt.date
    input_sha256: str
    recipient: str | None
    agreement: str | None
    issued_by: str
    issued_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None

    @property
    def object_id(self) -> str:
        return f"{self.audience}:{self.version}"

    def record(self) -> dict[str, Any]:
        """What an approval signature is bound to (``signatures.record_hash``)."""
        return {
            "site_id": self.site_id, "audience": self.audience, "version": self.version,
            "document_id": self.document_id, "as_of": self.as_of.isoformat(), "input_sha256": self.input_sha256,
            "recipient": self.recipient, "agreement": self.agreement, "issued_by": self.issued_by,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.record(), "status": self.status,
            "issued_at": self.issued_at.isoformat(timespec="seconds"),
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat(timespec="seconds") if self.approved_at else None,
        }


def _record(row: Any) -> IssueRecord:
    return IssueRecord(
        row.site_id, row.audience, row.version, row.document_id, row.status, row.as_of, row.input_sha256,
        row.recipient, row.agreement, row.issued_by, row.issued_at, row.approved_by, row.approved_at,
    )


def _check_audience(audience: str) -> None:
    if audience not in AUDIENCES:
        raise InputError(f"audience {audience!r}: choose auditor or customer")


def _rows(conn: Connection, site_id: str, audience: str) -> list[Any]:
    t = package_issues.c
    return list(conn.execute(select(package_issues).where(t.site_id == site_id, t.audience == audience)
                             .order_by(t.version)))


def issue(
    store: Store, *, principal: Principal, site_id: str, audience: str, as_of: dt.date,
    recipient: str | None = None, agreement: str | None = None, at: dt.datetime | None = None,
) -> tuple[IssueRecord, Mapping[str, Any], list[IssueRecord], Mapping[str, Any] | None]:
    """Record the next version of the site's ``audience`` package as a draft.

    Returns the new issue, the site data it was built from, the earlier issues (oldest first)
    and the site data of the one before (``None`` for a first issue)."""
    from zonewarden.services.sites import _stored_data, content_hash
    from zonewarden.services.sites import load_document as _load

    _check_audience(audience)
    identity.authorize(store, principal, "report.issue", site_id)
    if audience == "customer" and not (recipient and agreement):
        raise InputError("a customer package is issued to someone under an agreement: give --recipient and --agreement")
    at = at or dt.datetime.now(dt.UTC)
    doc = _load(store, site_id)
    with store.transaction() as conn:
        data = _stored_data(conn, site_id)
        if data is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        earlier = _rows(conn, site_id, audience)
        version = (earlier[-1].version if earlier else 0) + 1
        values: dict[str, Any] = dict(
            site_id=site_id, audience=audience, version=version, document_id=document_id(site_id, audience),
            status="draft", as_of=as_of, input_sha256=content_hash(doc), site_data=data,
            recipient=recipient, agreement=agreement, issued_by=principal.user_id, issued_at=at,
            approved_by=None, approved_at=None,
        )
        conn.execute(package_issues.insert().values(**values))
        record = IssueRecord(**{k: v for k, v in values.items() if k != "site_data"})
        audit.append(conn, action="report.issue", **principal.audit_fields, site_id=site_id,
                     object_type=OBJECT_TYPE, object_id=record.object_id, after=record.as_dict(), at=at)
    return record, data, [_record(r) for r in earlier], (earlier[-1].site_data if earlier else None)


def issued(store: Store, *, principal: Principal, site_id: str, audience: str,
           version: int) -> tuple[IssueRecord, Mapping[str, Any], list[IssueRecord], Mapping[str, Any] | None]:
    """An issued version as :func:`issue` returns it (to render it again, e.g. once approved)."""
    _check_audience(audience)
    identity.authorize(store, principal, f"report.{audience}", site_id)
    with store.read() as conn:
        rows = _rows(conn, site_id, audience)
    row = next((r for r in rows if r.version == version), None)
    if row is None:
        have = ", ".join(str(r.version) for r in rows) or "none"
        raise NotFoundError(f"no issued {audience} package version {version} for site {site_id!r} (issued: {have})")
    earlier = [r for r in rows if r.version < version]
    return _record(row), row.site_data, [_record(r) for r in earlier], (earlier[-1].site_data if earlier else None)


def history(store: Store, *, principal: Principal, site_id: str, audience: str) -> list[IssueRecord]:
    _check_audience(audience)
    identity.authorize(store, principal, f"report.{audience}", site_id)
    with store.read() as conn:
        return [_record(r) for r in _rows(conn, site_id, audience)]


def approve(
    store: Store, *, principal: Principal, site_id: str, audience: str, version: int,
    signing: Signing | None = None, at: dt.datetime | None = None,
) -> IssueRecord:
    """Approve an issued draft. The approver is not the issuer; with accounts it is signed."""
    from zonewarden.store.tables import sites

    _check_audience(audience)
    identity.authorize(store, principal, "report.approve", site_id)
    signer = signatures.confirm(store, principal, "report.approve", signing)
    at = at or dt.datetime.now(dt.UTC)
    t = package_issues.c
    with store.transaction() as conn:
        row = conn.execute(select(package_issues).where(
            t.site_id == site_id, t.audience == audience, t.version == version)).first()
        if row is None:
            raise NotFoundError(f"no issued {audience} package version {version} for site {site_id!r}")
        if row.status != "draft":
            raise ConflictError(f"{row.document_id} version {version} is already {row.status}")
        newest = conn.execute(select(func.max(t.version)).where(t.site_id == site_id, t.audience == audience)).scalar()
        if newest != version:
            raise ConflictError(f"{row.document_id} version {version} is superseded by version {newest}; approve that")
        if row.issued_by == principal.user_id and not principal.local:
            raise PermissionDenied(f"{principal.user_id} issued {row.document_id} version {version}; "
                                   "someone else has to approve it")
        conn.execute(update(package_issues).where(
            t.site_id == site_id, t.audience == audience, t.version == version,
        ).values(status="approved", approved_by=principal.user_id, approved_at=at))
        record = _record(row)
        approved = dataclasses.replace(record, status="approved", approved_by=principal.user_id, approved_at=at)
        audit.append(conn, action="report.approve", **principal.audit_fields, site_id=site_id,
                     object_type=OBJECT_TYPE, object_id=record.object_id, before=record.as_dict(),
                     after=approved.as_dict(), at=at)
        if signatures.needs_signature(principal, "report.approve"):
            assert signing is not None
            tz = conn.execute(select(sites.c.data).where(sites.c.id == site_id)).scalar()
            timezone = ((tz or {}).get("site") or {}).get("timezone")
            audit.append(conn, **signatures.signature_event(
                signer, "report.approve", site_id, timezone, signing, OBJECT_TYPE, record.object_id,
                record.record(), at))
    return approved


def signature_lines(store: Store, site_id: str, record: IssueRecord) -> list[str]:
    """The approval signatures of an issue, each checked against the issue as recorded."""
    with store.read() as conn:
        views = signatures.signatures_of(conn, site_id, {(OBJECT_TYPE, record.object_id): record.record()},
                                         object_type=OBJECT_TYPE, object_id=record.object_id)
    return [v.line() for v in views]


__all__ = ["AUDIENCES", "IssueRecord", "approve", "document_id", "history", "issue", "issued", "signature_lines"]
