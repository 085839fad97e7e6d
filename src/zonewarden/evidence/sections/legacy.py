"""Legacy constraints: assets that cannot follow normal practice, and for each compensating
measure the options that were considered and why replacement was not chosen."""

from __future__ import annotations

from zonewarden.domain.site import SupportStatus
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData
from zonewarden.evidence.text import u, us


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
        return SectionData(
            self.id,
            self.title,
            {
                "assets": assets,
                "decisions": decisions,
                "assets_without_compensation": sum(1 for a in assets if not a["compensating_controls"]),
            },
        )


SECTION = LegacySection()
