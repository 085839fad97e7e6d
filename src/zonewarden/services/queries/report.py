"""The evidence package of a site for auditors or customers, as files in memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.site import SiteDocument
from zonewarden.services.principal import Principal
from zonewarden.services.queries import day, site_of
from zonewarden.store.db import Store


@dataclass(frozen=True, slots=True)
class PackageResult:
    """The built package (its sections, with what they could not decide) and its rendered
    files by name (the formats asked for, ``manifest.json`` and ``SHA256SUMS``)."""

    site_id: str
    timezone: str | None
    as_of: dt.date
    package: Any
    files: dict[str, bytes]


def report(store: Store, *, principal: Principal, site_id: str | None, audience: str, formats: Iterable[str],
           as_of: str | dt.date | None = None, attachments: dict[str, bytes] | None = None,
           issue: bool = False, version: int | None = None, recipient: str | None = None,
           agreement: str | None = None) -> PackageResult:
    """Authorized as ``report.<audience>``. Advisory findings and triage decisions live in the
    database, not in the site file: they join the package here.

    Document control (:mod:`zonewarden.services.package_issues`): ``issue`` records the next
    version (a draft; ``report.issue``) and builds it; ``version`` builds an issued version again
    from the site data it was issued with (e.g. once approved). Otherwise the package is an
    uncontrolled draft without a version."""
    from zonewarden.services import advisories
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id, f"report.{audience}")
    extras: dict[str, Any] = {"advisories": advisories.evidence_data(store, ident)}
    from zonewarden.services.waivers import waiver_signatures

    signed_waivers = waiver_signatures(store, ident)
    if signed_waivers:  # a waiver's signature is shown with the waiver (no key: every waiver unsigned)
        extras["waiver_signatures"] = {k: v.line() for k, v in signed_waivers.items()}
    if issue and version is not None:
        from zonewarden.errors import InputError

        raise InputError("--issue records a new version; --version N renders an issued one: give one of them")
    if issue or version is not None:
        from zonewarden.services import package_issues

        if issue:
            doc0 = load_document(store, ident)
            when = day(doc0.site.timezone, as_of)
            record, data, earlier, previous = package_issues.issue(
                store, principal=principal, site_id=ident, audience=audience, as_of=when,
                recipient=recipient, agreement=agreement)
        else:
            assert version is not None
            record, data, earlier, previous = package_issues.issued(
                store, principal=principal, site_id=ident, audience=audience, version=version)
        extras["document_control"] = document_control_facts(
            record, earlier, previous, package_issues.signature_lines(store, ident, record))
        from zonewarden.services.sites import TRUSTED

        doc = SiteDocument.model_validate(data, context=TRUSTED)
        return report_of(doc, audience=audience, formats=formats, as_of=record.as_of, extras=extras,
                         attachments=attachments)
    return report_of(load_document(store, ident), audience=audience, formats=formats, as_of=as_of,
                     extras=extras, attachments=attachments)


def document_control_facts(record: Any, earlier: list[Any], previous: Any, signatures: list[str]) -> dict[str, Any]:
    """The issue facts the package's document control section renders (JSON-safe)."""
    return {
        "document_id": record.document_id, "version": record.version, "status": record.status,
        "recipient": record.recipient, "agreement": record.agreement, "issued_by": record.issued_by,
        "issued_on": record.issued_at.date().isoformat(),
        "approved_on": record.approved_at.date().isoformat() if record.approved_at else None,
        "signatures": signatures,
        "history": [{"version": e.version, "issued_on": e.issued_at.date().isoformat(), "status": e.status,
                     "as_of": e.as_of.isoformat()} for e in earlier],
        "previous_data": previous,
    }


def report_of(doc: SiteDocument, *, audience: str, formats: Iterable[str], as_of: str | dt.date | None = None,
              extras: dict[str, Any] | None = None, attachments: dict[str, bytes] | None = None) -> PackageResult:
    from zonewarden.evidence.builder import build_package, render_package

    today = day(doc.site.timezone, as_of)
    package = build_package(doc, audience, today, extras=extras or {})
    return PackageResult(doc.site.id, doc.site.timezone, today, package, render_package(package, formats, attachments))
