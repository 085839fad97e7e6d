"""``zonewarden suppliers``: each vendor of a site's inventory as a supplier, with its disclosure
process and how well the plant will be informed (issue 16, part 7).

A query (see ``services.queries``): authorizes ``site.read`` before loading, returns data with
``as_dict()`` and ``rows()``; :func:`suppliers_of` works on a document in hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from zonewarden.domain.psirt_suppliers import Informed, SupplierRow, register
from zonewarden.domain.site import SiteDocument
from zonewarden.services.principal import Principal
from zonewarden.services.queries import day, site_of
from zonewarden.store.db import Store


@dataclass(frozen=True, slots=True)
class SuppliersResult:
    site_id: str
    as_of: dt.date
    suppliers: tuple[SupplierRow, ...]

    @property
    def poorly_informed_share(self) -> float:
        """Share of the site's assets whose supplier has no usable disclosure process."""
        return sum(r.share for r in self.suppliers if r.informed is Informed.POORLY)

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site_id, "as_of": self.as_of.isoformat(),
                "poorly_informed_share": round(self.poorly_informed_share, 4),
                "suppliers": [r.as_dict() for r in self.suppliers]}

    def rows(self) -> list[dict[str, Any]]:
        return [{**r.as_dict(), "share": f"{r.share:.0%}", "reasons": "; ".join(r.reasons)} for r in self.suppliers]


def suppliers(store: Store, *, principal: Principal, site_id: str | None,
              as_of: str | dt.date | None = None) -> SuppliersResult:
    from zonewarden.services.sites import load_document

    ident = site_of(store, principal, site_id)
    return suppliers_of(load_document(store, ident), as_of=as_of)


def suppliers_of(doc: SiteDocument, *, as_of: str | dt.date | None = None) -> SuppliersResult:
    today = day(doc.site.timezone, as_of)
    rows = register([a.vendor for a in doc.assets], doc.suppliers, today)
    return SuppliersResult(doc.site.id, today, tuple(rows))
