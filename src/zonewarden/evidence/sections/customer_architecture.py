"""High-level architecture for customers: which kinds of zone exist and how they are separated.

Zone kinds, not zones: no names of devices, no addresses, no host names. Separation is
described per pair of zone kinds by the protections on the conduits between them and by who
may open connections.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from zonewarden.domain.site import ZoneKind
from zonewarden.engines.segmentation import REMOTE_ACCESS_PROTOCOLS
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import CUSTOMER, SectionData

KIND_PURPOSE = {
    ZoneKind.EXTERNAL: "networks outside the company's control",
    ZoneKind.ENTERPRISE: "business IT: office, ERP and corporate services",
    ZoneKind.REMOTE_ACCESS: "a broker for vendor and on-call access",
    ZoneKind.DMZ: "a demilitarised zone where IT and OT exchange data without direct connections",
    ZoneKind.OPERATIONS: "site-wide production systems (manufacturing execution, historians, domain services)",
    ZoneKind.SUPERVISORY: "operator stations and supervisory control servers",
    ZoneKind.CONTROL: "controllers that run the production process",
    ZoneKind.FIELD: "sensors, actuators and drives",
    ZoneKind.SAFETY: "safety instrumented systems, kept apart from basic control",
}


class CustomerArchitectureSection:
    id = "customer-architecture"
    title = "Architecture and separation"
    audiences = CUSTOMER

    def build(self, ctx: BuildContext) -> SectionData:
        doc = ctx.doc
        kinds = Counter(z.kind for z in doc.zones)
        zone_kind = {z.id: z.kind for z in doc.zones}
        levels: dict[ZoneKind, set[float]] = defaultdict(set)
        for z in doc.zones:
            levels[z.kind].add(z.purdue_level)
        pairs: dict[tuple[ZoneKind, ZoneKind], dict[str, Any]] = {}
        for c in doc.conduits:
            a, b = (zone_kind.get(c.zones[0]), zone_kind.get(c.zones[1]))
            if a is None or b is None:
                continue
            lo, hi = sorted((a, b), key=lambda k: (k.trust_rank, k.value))
            entry = pairs.setdefault((lo, hi), {"conduits": 0, "protections": Counter(), "initiators": set(),
                                                "remote": False, "unfiltered": 0})
            entry["conduits"] += 1
            entry["protections"].update(p.value for p in c.protections)
            if not c.protections:
                entry["unfiltered"] += 1
            for f in c.flows:
                src = zone_kind.get(f.source)
                dst = zone_kind.get(f.destination)
                if f.initiator.value in ("source", "both") and src is not None:
                    entry["initiators"].add(src.value)
                if f.initiator.value in ("destination", "both") and dst is not None:
                    entry["initiators"].add(dst.value)
                if f.remote_access or f.protocol in REMOTE_ACCESS_PROTOCOLS:
                    entry["remote"] = True
        separations = [
            {
                "from": lo.value,
                "to": hi.value,
                "conduits": e["conduits"],
                "protections": sorted(e["protections"]),
                "conduits_without_protection": e["unfiltered"],
                "opened_from": sorted(e["initiators"]),
                "interactive_remote_access": e["remote"],
            }
            for (lo, hi), e in sorted(pairs.items(), key=lambda kv: (kv[0][0].trust_rank, kv[0][0].value,
                                                                     kv[0][1].trust_rank, kv[0][1].value))
        ]
        zone_kinds = [
            {
                "kind": k.value,
                "purpose": KIND_PURPOSE[k],
                "zones": kinds[k],
                "purdue_levels": sorted(levels[k]),
            }
            for k in sorted(kinds, key=lambda k: (-max(levels[k]), k.trust_rank, k.value))
        ]
        it = {ZoneKind.EXTERNAL, ZoneKind.ENTERPRISE}
        ot = {ZoneKind.OPERATIONS, ZoneKind.SUPERVISORY, ZoneKind.CONTROL, ZoneKind.FIELD, ZoneKind.SAFETY}
        direct_it_ot = sum(
            s["conduits"] for s in separations if ({ZoneKind(s["from"]), ZoneKind(s["to"])} & it)
            and ({ZoneKind(s["from"]), ZoneKind(s["to"])} & ot)
        )
        return SectionData(
            self.id,
            self.title,
            {
                "zone_kinds": zone_kinds,
                "separations": separations,
                "has_dmz": kinds[ZoneKind.DMZ] > 0,
                "direct_it_ot_conduits": direct_it_ot,
                "safety_zones": kinds[ZoneKind.SAFETY],
            },
        )


SECTION = CustomerArchitectureSection()
