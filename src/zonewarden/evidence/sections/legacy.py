"""Legacy constraints: assets that cannot follow normal practice, and for each compensating
measure the options that were considered and why replacement was not chosen.

Above :data:`TABLE_LIMIT` constrained assets (a 10k-asset site has ~500) the asset table is the
appendix file ``legacy-assets.csv`` (:mod:`zonewarden.evidence.appendix`); the PDF keeps the
counts per zone and the constrained assets no compensating control names, up to
:data:`TOP_ROWS`."""

from __future__ import annotations

from typing import Any

from zonewarden.domain.site import SupportStatus
from zonewarden.evidence.appendix import csv_appendix
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us

TABLE_LIMIT = 300
"""Above this many constrained assets the asset table is an appendix file."""
TOP_ROWS = 40
CSV_NAME = "legacy-assets.csv"
COLUMNS = ("asset", "name", "zone", "type", "product", "os", "vendor_support", "end_of_support", "patch_tier",
           "validated", "constraints", "compensating_controls")


def _appendix(assets: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    rows = [[a["id"], a["name"], a["zone"], a["type"], a["product"], a["os"], a["vendor_support"], a["end_of_support"],
             a["patch_tier"], a["validated"], "; ".join(a["constraints"]), a["compensating_controls"]] for a in assets]
    summary: dict[str, Any] = {}
    descriptor, files = csv_appendix(CSV_NAME, "legacy-constrained assets", COLUMNS, rows)
    zones: dict[str, dict[str, Any]] = {}
    for a in assets:
        z = zones.setdefault(a["zone"] or "", {"zone": a["zone"], "assets": 0, "without_compensation": 0})
        z["assets"] += 1
        z["without_compensation"] += not a["compensating_controls"]
    summary["by_zone"] = [zones[k] for k in sorted(zones)]
    summary["top"] = [a for a in assets if not a["compensating_controls"]][:TOP_ROWS]
    summary["appendix"] = descriptor
    return summary, files


class LegacySection:
    id = "legacy"
    title = "Legacy constraints and the options considered"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        by_asset: dict[str, list[str]] = {}
        for c in doc.compensating_controls:
            for asset_id in c.assets:
                by_asset.setdefault(asset_id, []).append(c.id)
        assets = []
        for a in sorted(doc.assets, key=lambda a: ((a.zone or ""), a.id)):
            eos = a.vendor_support is SupportStatus.END_OF_SUPPORT or (
                a.end_of_support is not None and a.end_of_support <= ctx.as_of
            )
            if not (a.legacy_constraints or eos or a.patch_tier == 4):
                continue
            assets.append(
                {
                    "id": u(a.id),
                    "name": u(a.name),
                    "type": u(a.type.value),
                    "zone": u(a.zone),
                    "product": u(" ".join(p for p in (a.vendor, a.product, a.version) if p)) or None,
                    "os": u(a.os),
                    "vendor_support": u(a.vendor_support.value),
                    "end_of_support": u(a.end_of_support),
                    "patch_tier": a.effective_patch_tier,
                    "validated": a.validated,
                    "constraints": us(a.legacy_constraints),
                    "compensating_controls": us(sorted(by_asset.get(a.id, ()))),
                }
            )
        decisions = []
        for c in sorted(doc.compensating_controls, key=lambda c: c.id):
            if not c.options_considered and c.rationale.value == "other":
                continue
            decisions.append(
                {
                    "control": u(c.id),
                    "title": u(c.title),
                    "rationale": u(c.rationale.value),
                    "rationale_detail": u(c.rationale_detail),
                    "assets": us(c.assets),
                    "options": [
                        {"option": u(o.option), "why_not": u(o.why_not), "adopted": not (o.why_not or "").strip()}
                        for o in c.options_considered
                    ],
                }
            )
        data: dict[str, Any] = {
            "assets_total": len(assets),
            "assets_without_compensation": sum(1 for a in assets if not a["compensating_controls"]),
            "decisions": decisions,
            "appendix": None,
        }
        files: dict[str, bytes] = {}
        if len(assets) > TABLE_LIMIT:
            summary, files = _appendix(assets)
            data.update(summary)
            assets = []
        return SectionData(self.id, self.title, {**data, "assets": assets}, files=files)


SECTION = LegacySection()
