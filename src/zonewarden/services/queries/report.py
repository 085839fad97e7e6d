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
           as_of: str | dt.date | None = None, attachments: dict[str, bytes] | None = None) -> PackageResult:
    """Authorized as ``report.<audience>``. Advisory findings and triage decisions live in the
    database, not in the site file: they join the package here."""
    from zonewarden.services import advisories
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id, f"report.{audience}")
    return report_of(load_document(store, ident), audience=audience, formats=formats, as_of=as_of,
                     extras={"advisories": advisories.evidence_data(store, ident)}, attachments=attachments)


def report_of(doc: SiteDocument, *, audience: str, formats: Iterable[str], as_of: str | dt.date | None = None,
              extras: dict[str, Any] | None = None, attachments: dict[str, bytes] | None = None) -> PackageResult:
    from zonewarden.evidence.builder import build_package, render_package

    today = day(doc.site.timezone, as_of)
    package = build_package(doc, audience, today, extras=extras or {})
    return PackageResult(doc.site.id, doc.site.timezone, today, package, render_package(package, formats, attachments))
