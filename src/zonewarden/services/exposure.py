"""SSVC System Exposure of every asset, from its zone and the conduits into that zone.

Pure (a function of the site document); lives beside the services that store findings because
they are its only callers. The value rules are :func:`zonewarden.engines.ssvc.exposure_from`'s;
this module decides the two facts it needs and says which conduit gave them:

* **reachable from external**: a flow of a conduit between the asset's zone and an
  ``external`` zone may be *opened from the external side* (``opens_from``): a vendor VPN
  landing in a cell, a published web service. -> ``open``.
* **remote-access path**: a flow into the zone is marked ``remote_access`` (RDP from jump
  hosts, a vendor tunnel), or may be opened from a ``dmz``, ``remote-access`` or
  ``enterprise`` zone.
  -> ``controlled`` (as are assets in DMZ, remote-access and enterprise zones themselves).
* everything else is an isolated cell: only other OT zones open connections into it -> ``small``.

Only direct conduits count. A path through several zones passes at least one zone whose own
access controls stand between it and the outside, which is what ``controlled`` and ``small``
distinguish; the segmentation check (``zonewarden check``, ZW002) reports long paths that skip
the DMZ. An asset without a zone cannot be judged: it is taken as ``open`` (the value that can
only raise a priority) until it is placed in a zone.
"""

from __future__ import annotations

from dataclasses import dataclass

from zonewarden.domain.advisories import Exposure, SsvcInput
from zonewarden.domain.site import Conduit, Flow, SiteDocument, ZoneKind
from zonewarden.engines.paths import opens_from
from zonewarden.engines.ssvc import exposure_from

# Enterprise IT counts too: a flow opened from the office network into OT (an ERP link that
# bypasses the DMZ) makes the zone reachable by everyone who can reach the office network.
_ACCESS_KINDS = frozenset({ZoneKind.DMZ, ZoneKind.REMOTE_ACCESS, ZoneKind.ENTERPRISE})


@dataclass(frozen=True, slots=True)
class ZoneExposure:
    """The exposure facts of one zone and the conduits that gave them."""

    zone_id: str
    kind: ZoneKind
    external_via: tuple[str, ...]
    """``conduit (protocol)`` texts of flows that can be opened from an external zone."""
    remote_via: tuple[str, ...]
    """``conduit (protocol)`` texts of remote-access flows or flows opened from a DMZ, remote-access or enterprise zone."""

    def ssvc_input(self) -> SsvcInput:
        base = exposure_from(self.kind, bool(self.external_via), bool(self.remote_via))
        via = self.external_via if base.value == Exposure.OPEN.value else self.remote_via
        detail = f" (zone {self.zone_id}" + (f"; via {', '.join(via)})" if via else ")")
        return base.model_copy(update={"source": base.source + detail})


def _flow_text(conduit: Conduit, flow: Flow) -> str:
    ports = "/".join(flow.ports)
    return f"{conduit.id} {flow.protocol}{'/' + ports if ports else ''}"


def zone_exposures(doc: SiteDocument) -> dict[str, ZoneExposure]:
    """Exposure facts per zone id, sorted texts (deterministic output)."""
    kinds = {z.id: z.kind for z in doc.zones}
    external: dict[str, set[str]] = {z: set() for z in kinds}
    remote: dict[str, set[str]] = {z: set() for z in kinds}
    for conduit in doc.conduits:
        for zone in conduit.zones:
            other = conduit.zones[1] if zone == conduit.zones[0] else conduit.zones[0]
            if zone not in kinds or other not in kinds:
                continue
            for flow in conduit.flows:
                # Only flows the other side may open reach into ``zone``.
                if not opens_from(flow, other):
                    continue
                if kinds[other] is ZoneKind.EXTERNAL:
                    external[zone].add(_flow_text(conduit, flow))
                elif flow.remote_access or kinds[other] in _ACCESS_KINDS:
                    remote[zone].add(_flow_text(conduit, flow))
                if flow.remote_access and kinds[other] is ZoneKind.EXTERNAL:
                    remote[zone].add(_flow_text(conduit, flow))
    return {
        z: ZoneExposure(z, kinds[z], tuple(sorted(external[z])), tuple(sorted(remote[z]))) for z in sorted(kinds)
    }


UNZONED = SsvcInput(
    name="exposure",
    value=Exposure.OPEN.value,
    computed=Exposure.OPEN.value,
    source="the asset is in no zone: its exposure is unknown, taken as open until it is placed in a zone",
)


def asset_exposures(doc: SiteDocument) -> dict[str, SsvcInput]:
    """System Exposure of every asset (by asset id), each with the reason."""
    per_zone = {z: e.ssvc_input() for z, e in zone_exposures(doc).items()}
    return {a.id: per_zone.get(a.zone, UNZONED) if a.zone else UNZONED for a in doc.assets}


__all__ = ["UNZONED", "ZoneExposure", "asset_exposures", "zone_exposures"]
