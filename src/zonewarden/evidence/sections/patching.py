"""OT patch management: the agreed policy per patch tier, compliance with it, deferrals with
their compensating controls, and where the plant carries risk to protect uptime.

Auditor: the policy, compliance by tier, every item outside the normal cycle (overdue,
deferred, unpatchable) with its vulnerabilities, deferral and controls, risk carried per zone,
deferral issues and the patch change records. Customer: the practice and the counts only; no
asset, zone, patch or vulnerability (together they map the plant's unpatched weak spots).
"""

from __future__ import annotations

from typing import Any

from zonewarden.domain.patching import items_from_patches
from zonewarden.engines.patchstatus import ItemState, patch_status
from zonewarden.evidence.claims import patching_claims
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import BOTH, SectionData
from zonewarden.evidence.text import u, us


class PatchingSection:
    id = "patching"
    title = "OT patch management"
    audiences = BOTH

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        claims = patching_claims(ctx)
        status = ctx._timed("patchstatus", lambda: patch_status(doc, items_from_patches(doc.patches), ctx.as_of))
        if status is None:
            return SectionData(self.id, self.title, {"practice": [c.statement for c in claims],
                                "available": False},
                               [f"patch status: {ctx.why_missing('patchstatus')}"])
        summary = status.as_dict()["summary"]
        data: dict[str, Any] = {
            "practice": [c.statement for c in claims],
            "available": True,
            "policy": [
                {
                    "tier": t,
                    "immediate_days": p.immediate_days,
                    "out_of_cycle_days": p.out_of_cycle_days,
                    "scheduled_days": p.scheduled_days,
                    "defer_days": p.defer_days,
                    "max_deferral_days": p.max_deferral_days,
                    "vendor_qualification": p.vendor_qualification,
                    "revalidation": p.revalidation.value,
                }
                for t in (1, 2, 3, 4)
                for p in [doc.patch_policy.tier(t)]
            ],
            "summary": summary,
            "tiers": [t.as_dict() for t in status.tiers],
            "windows": len(doc.maintenance_windows),
            "blackouts": len(doc.blackouts),
            "deferrals": len(doc.deferrals),
            "patch_changes": len(doc.patch_changes),
        }
        if ctx.auditor:
            data["outside_cycle"] = [
                {
                    "asset": u(i.item.asset_id),
                    "patch": u(i.item.patch_ref),
                    "zone": u(i.zone),
                    "tier": i.tier,
                    "priority": i.item.priority.value,
                    "state": i.state.value,
                    "deadline": i.deadline.isoformat(),
                    "days_overdue": i.days_overdue,
                    "cves": us(i.item.cves),
                    "deferral": u(i.deferral),
                    "deferral_expires": i.deferral_expires.isoformat() if i.deferral_expires else None,
                    "controls": [{"id": u(c.id), "validity": c.validity} for c in i.controls],
                    "needs_risk_acceptance": i.needs_risk_acceptance,
                    "risk_acceptance": u(i.risk_acceptance),
                }
                for i in status.items
                if i.state not in (ItemState.OPEN, ItemState.PATCHED)
            ]
            data["zones"] = [{**z.as_dict(), "zone": u(z.zone), "cves": us(z.cves)} for z in status.zones]
            data["issues"] = [
                {"deferral": u(d.deferral), "asset": u(d.asset), "patch": u(d.patch), "problem": d.problem,
                 "message": u(d.message)}
                for d in status.deferral_issues
            ]
            data["changes"] = [
                {
                    "id": u(c.id), "title": u(c.title), "patch": u(c.patch), "wave": c.wave.value,
                    "status": c.status.value, "assets": us(c.assets), "outcome": c.outcome.value if c.outcome else None,
                    "approvals": [f"{a.decision.value} by {ctx.person(a.by)} on {a.on}" for a in c.approvals],
                    "backup_taken": c.backup_taken.isoformat() if c.backup_taken else None,
                    "restore_tested": c.restore_tested.isoformat() if c.restore_tested else None,
                    "revalidation": (
                        u(c.revalidation.reference) if c.revalidation else
                        ("no impact: " + c.no_impact_determination if c.no_impact_determination else None)
                    ),
                    "review": u(c.post_implementation_review),
                }
                for c in sorted(doc.patch_changes, key=lambda c: (c.raised, c.id))
            ]
        return SectionData(self.id, self.title, data)


SECTION = PatchingSection()
