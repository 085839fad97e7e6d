"""Asset register (auditor appendix, last): zone, type, vendor / product / version, SL-C, patch
tier, end of support and criticality of every asset.

A large register would dominate the PDF (a 10k-asset site: hundreds of pages of table layout).
Above :data:`TABLE_LIMIT` assets the register goes to ``asset-register.csv``, an appendix file of
the package (:mod:`zonewarden.evidence.appendix`: listed and hashed in the manifest, cells
protected against formula injection); the PDF keeps a summary: assets per zone (with how many
are past end of support and how many are critical or high), and the assets past end of support,
most critical first, up to :data:`TOP_ROWS`.
"""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u

TABLE_LIMIT = 1500
"""Above this many assets the register is an appendix file, not a table of the PDF."""
TOP_ROWS = 40
"""How many assets past end of support the summary lists."""
CSV_NAME = "asset-register.csv"
COLUMNS = ("asset", "name", "zone", "type", "vendor", "product", "version", "sl_c", "patch_tier",
           "end_of_support", "vendor_support", "criticality")
_CRITICALITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class AssetRegisterSection:
    id = "asset-register"
    title = "Appendix: asset register"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        rows: list[dict[str, Any]] = []
        for a in sorted(ctx.doc.assets, key=lambda a: ((a.zone or "~"), a.id)):
            rows.append({
                "asset": u(a.id), "name": u(a.name), "zone": u(a.zone), "type": a.type.value,
                "vendor": u(a.vendor), "product": u(a.product), "version": u(a.version),
                "sl_c": list(a.capability.as_tuple()) if a.capability else None,
                "patch_tier": a.patch_tier,
                "end_of_support": a.end_of_support.isoformat() if a.end_of_support else None,
                "vendor_support": a.vendor_support.value, "criticality": a.criticality.value,
            })
        if len(rows) <= TABLE_LIMIT:
            return SectionData(self.id, self.title, {"rows": rows, "csv": None, "appendix": None,
                                                     "assets": len(rows)})
        today = ctx.as_of.isoformat()
        past = [r for r in rows if r["end_of_support"] and r["end_of_support"] < today]
        zones: dict[str | None, dict[str, Any]] = {}
        for r in rows:
            z = zones.setdefault(r["zone"], {"zone": r["zone"], "assets": 0, "past_end_of_support": 0,
                                             "critical_or_high": 0})
            z["assets"] += 1
            z["past_end_of_support"] += bool(r["end_of_support"] and r["end_of_support"] < today)
            z["critical_or_high"] += r["criticality"] in ("critical", "high")
        top = sorted(past, key=lambda r: (_CRITICALITY.get(r["criticality"], 9), r["end_of_support"],
                                          r["zone"] or "~", r["asset"]))[:TOP_ROWS]
        appendix, files = csv_appendix(CSV_NAME, "asset register", COLUMNS,
                                       [[r[c] for c in COLUMNS] for r in rows])
        return SectionData(
            self.id, self.title,
            {"rows": [], "assets": len(rows), "appendix": appendix,
             "csv": {"file": CSV_NAME, "sha256": appendix["sha256"], "bytes": appendix["bytes"]},
             "by_zone": [zones[k] for k in sorted(zones, key=lambda k: k or "~")],
             "past_end_of_support": len(past), "top": top},
            files=files,
        )


SECTION = AssetRegisterSection()
