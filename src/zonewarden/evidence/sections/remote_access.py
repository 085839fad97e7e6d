"""Remote access practice for customers: how interactive and vendor access reaches the plant."""

from __future__ import annotations

from collections import Counter

from zonewarden.domain.site import AssetType, ZoneKind
from zonewarden.engines.segmentation import REMOTE_ACCESS_PROTOCOLS
from zonewarden.evidence.claims import plan_statement
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import CUSTOMER, SectionData
from zonewarden.evidence.sections._common import requirement_summary

REQUIREMENTS = ("SR 1.13", "SR 1.13 RE 1", "SR 2.6", "SR 1.1 RE 2", "SR 5.1")


class RemoteAccessSection:
    id = "remote-access"
    title = "Remote access practice"
    audiences = CUSTOMER

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        kind = {z.id: z.kind for z in doc.zones}
        protections: Counter[str] = Counter()
        remote_conduits = 0
        brokered = 0
        jump_zones = {a.zone for a in doc.assets if a.type is AssetType.JUMP_HOST and a.zone}
        for c in doc.conduits:
            flows = [f for f in c.flows if f.remote_access or f.protocol in REMOTE_ACCESS_PROTOCOLS]
            if not flows:
                continue
            remote_conduits += 1
            protections.update(p.value for p in c.protections)
            if any(kind.get(f.source) in (ZoneKind.REMOTE_ACCESS, ZoneKind.DMZ) or f.source in jump_zones for f in flows):
                brokered += 1
        gateways = sum(
            1 for a in doc.assets if a.type in (AssetType.JUMP_HOST, AssetType.REMOTE_ACCESS_GATEWAY, AssetType.VPN_GATEWAY)
        )
        return SectionData(
            self.id,
            self.title,
            {
                "remote_access_zones": sum(1 for z in doc.zones if z.kind is ZoneKind.REMOTE_ACCESS),
                "conduits_with_remote_access": remote_conduits,
                "conduits_brokered": brokered,
                "protections": dict(sorted(protections.items())),
                "access_brokers": gateways,
                "requirements": requirement_summary(ctx, REQUIREMENTS),
                "plan": plan_statement(ctx, self.id, REQUIREMENTS),
            },
        )


SECTION = RemoteAccessSection()
