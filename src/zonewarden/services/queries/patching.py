"""Patch queries: the plan of open remediations into maintenance windows, and patch compliance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.site import SiteDocument
from zonewarden.services.principal import Principal
from zonewarden.services.queries import day, site_of
from zonewarden.store.db import Store


def _stored(store: Store, principal: Principal, site_id: str | None) -> tuple[SiteDocument, list[Any]]:
    """The stored site and its findings marked 'remediation planned'."""
    from zonewarden.services.patching import finding_items
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id)
    return load_document(store, ident), finding_items(store, ident)


@dataclass(frozen=True, slots=True)
class PatchStatusResult:
    """Patch compliance by tier, overdue items, deferrals and where risk is carried per zone."""

    site_id: str
    site_name: str
    as_of: dt.date
    status: Any

    @property
    def overdue(self) -> bool:
        from zonewarden.engines.patchstatus import has_overdue

        return has_overdue(self.status)

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site_id, **self.status.as_dict()}


def patch_status(store: Store, *, principal: Principal, site_id: str | None,
                 as_of: str | dt.date | None = None) -> PatchStatusResult:
    doc, findings = _stored(store, principal, site_id)
    return patch_status_of(doc, as_of=as_of, findings=findings)


def patch_status_of(doc: SiteDocument, *, as_of: str | dt.date | None = None,
                    findings: list[Any] | None = None) -> PatchStatusResult:
    """Vendor patches of the site plus ``findings`` (remediation items from advisories)."""
    from zonewarden.engines.patchstatus import patch_status as status_of
    from zonewarden.services.patching import open_items

    today = day(doc.site.timezone, as_of)
    return PatchStatusResult(doc.site.id, doc.site.name, today, status_of(doc, open_items(doc, findings or []), today))
