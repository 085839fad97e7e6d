"""Monitoring practice for customers: security event logging and continuous monitoring (FR6)."""

from __future__ import annotations

from zonewarden.domain.site import AssetType, Protection
from zonewarden.evidence.claims import plan_statement
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import CUSTOMER, SectionData
from zonewarden.evidence.sections._common import requirement_summary

REQUIREMENTS = ("SR 2.8", "SR 2.9", "SR 6.1", "SR 6.2", "SR 3.2", "SR 3.4")


class MonitoringSection:
    id = "monitoring"
    title = "Security monitoring"
    audiences = CUSTOMER

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        monitored = sum(1 for c in doc.conduits if Protection.MONITORING in c.protections)
        sensors = {a.zone for a in doc.assets if a.type is AssetType.IDS_SENSOR and a.zone}
        return SectionData(
            self.id,
            self.title,
            {
                "conduits": len(doc.conduits),
                "conduits_monitored": monitored,
                "zones_with_network_sensor": len(sensors),
                "zones": len(doc.zones),
                "requirements": requirement_summary(ctx, REQUIREMENTS),
                "plan": plan_statement(ctx, self.id, REQUIREMENTS),
            },
        )


SECTION = MonitoringSection()
