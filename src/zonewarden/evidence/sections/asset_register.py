"""Asset register (auditor appendix, last): zone, type, vendor / product / version, SL-C, patch
tier, end of support and criticality of every asset.

A large register would dominate the PDF (a 10k-asset site: hundreds of pages of table layout).
Above :data:`TABLE_LIMIT` assets the register goes to ``asset-register.csv``, a file of the
package listed and hashed in the manifest; the section then names the file and its SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u

TABLE_LIMIT = 1500
CSV_NAME = "asset-register.csv"
COLUMNS = ("asset", "name", "zone", "type", "vendor", "product", "version", "sl_c", "patch_tier",
           "end_of_support", "vendor_support", "criticality")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text  # a spreadsheet must not run it


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
            return SectionData(self.id, self.title, {"rows": rows, "csv": None, "assets": len(rows)})
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in rows:
            sl = r["sl_c"]
            writer.writerow([_cell(" ".join(str(v) for v in sl) if sl else None) if c == "sl_c" else _cell(r[c])
                             for c in COLUMNS])
        data = buf.getvalue().encode("utf-8")
        return SectionData(
            self.id, self.title,
            {"rows": [], "assets": len(rows),
             "csv": {"file": CSV_NAME, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}},
            files={CSV_NAME: data},
        )


SECTION = AssetRegisterSection()
