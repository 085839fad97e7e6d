"""Suppliers and their vulnerability disclosure processes (auditor; issue 16, part 7).

Every vendor of the inventory as a supplier (:func:`zonewarden.domain.psirt_suppliers.register`):
the share of the plant's assets it covers, how well the plant will be informed of its
vulnerabilities (``well`` / ``partly`` / ``poorly``) and why, its review date. Suppliers without a
usable disclosure process (assessed ``poorly``) and those whose gaps include an overdue review
are counted apart; the executive summary reports the share of assets they cover.

Auditor only: which vendors the plant depends on, and which of them would leave it uninformed,
maps its weak spots; the customer package does not carry this section.
"""

from __future__ import annotations

from typing import Any

from zonewarden.domain.psirt_suppliers import Informed, register
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us

_ORDER = {Informed.POORLY: 0, Informed.PARTLY: 1, Informed.WELL: 2}


class SuppliersSection:
    id = "suppliers"
    title = "Suppliers and their vulnerability disclosure"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        rows = register([a.vendor for a in doc.assets], doc.suppliers, ctx.as_of)
        records = {s.id: s for s in doc.suppliers}
        out: list[dict[str, Any]] = []
        for r in sorted(rows, key=lambda r: (_ORDER[r.informed], -r.assets, r.vendor.casefold())):
            rec = records.get(r.supplier_id or "")
            review = rec.review_date.isoformat() if rec and rec.review_date else None
            out.append({
                "vendor": u(r.vendor), "supplier": u(r.supplier_id), "assets": r.assets,
                "share": round(r.share, 4), "informed": r.informed.value, "reasons": us(r.reasons),
                "review_date": review,
                "review_overdue": review is not None and review < ctx.as_of.isoformat(),
                "csaf_provider": u(r.csaf_provider), "certified_62443_4_1": r.certified_62443_4_1,
            })
        poorly = [r for r in out if r["informed"] == Informed.POORLY.value]
        return SectionData(self.id, self.title, {
            "suppliers": out,
            "recorded": len(doc.suppliers),
            "poorly_informed": len(poorly),
            "poorly_informed_share": round(sum(r["share"] for r in poorly), 4),
            "partly_informed": sum(1 for r in out if r["informed"] == Informed.PARTLY.value),
            "reviews_overdue": sum(1 for r in out if r["review_overdue"]),
        })


SECTION = SuppliersSection()
