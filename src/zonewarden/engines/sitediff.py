"""What changed between two versions of a site, and which reassessments the change implies.

Zones, conduits and assets are matched by id; flows by (conduit, source, destination, protocol,
ports). A changed object lists its changed fields with old and new values. The implied triggers
follow the change types of :class:`~zonewarden.domain.governance.ChangeType`, so a re-import that
nobody raised a change record for still shows up on the assessment calendar
(:func:`zonewarden.engines.cadence.due_items` takes them as ``extra_triggers``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from zonewarden.domain.common import Criticality
from zonewarden.domain.governance import ChangeType
from zonewarden.domain.site import Conduit, Flow, SiteDocument, SupportStatus, ZoneKind
from zonewarden.engines.cadence import Trigger, TriggerSource

EXPOSED_KINDS = frozenset({ZoneKind.EXTERNAL, ZoneKind.REMOTE_ACCESS})
"""Zones whose new connections count as new external connectivity."""
CRITICAL = frozenset({Criticality.HIGH, Criticality.CRITICAL})


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """One zone, conduit, asset or flow that was added, removed or changed."""

    section: str
    """zones, conduits, assets, flows or a whole other section (people, risks, ...)."""
    id: str
    kind: ChangeKind
    fields: tuple[FieldChange, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "id": self.id,
            "kind": self.kind.value,
            "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in self.fields],
        }


@dataclass(frozen=True, slots=True)
class SiteDiff:
    changes: tuple[ObjectChange, ...]
    triggers: tuple[Trigger, ...]

    @property
    def empty(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.as_dict() for c in self.changes],
            "triggers": [
                {
                    "kind": t.kind,
                    "ref": t.ref,
                    "zones": list(t.zones),
                    "date": t.date.isoformat(),
                    "reason": t.reason,
                }
                for t in self.triggers
            ],
        }


def _dump(obj: Any, exclude: set[str] | None = None) -> dict[str, Any]:
    return obj.model_dump(mode="json", exclude=exclude or set())


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(k, old.get(k), new.get(k))
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    )


def _by_id(
    section: str, old: dict[str, Any], new: dict[str, Any], exclude: set[str] | None = None
) -> list[ObjectChange]:
    out = []
    for ident in sorted(set(old) | set(new)):
        if ident not in old:
            out.append(ObjectChange(section, ident, ChangeKind.ADDED))
        elif ident not in new:
            out.append(ObjectChange(section, ident, ChangeKind.REMOVED))
        else:
            fields = _field_changes(_dump(old[ident], exclude), _dump(new[ident], exclude))
            if fields:
                out.append(ObjectChange(section, ident, ChangeKind.CHANGED, fields))
    return out


def flow_key(conduit: Conduit, flow: Flow) -> str:
    ports = ",".join(flow.ports) or "-"
    return f"{conduit.id}:{flow.source}->{flow.destination}/{flow.protocol}/{ports}"


def _flows(doc: SiteDocument) -> dict[str, tuple[Conduit, Flow]]:
    return {flow_key(c, f): (c, f) for c in doc.conduits for f in c.flows}


def diff_sites(old: SiteDocument, new: SiteDocument, *, as_of: dt.date) -> SiteDiff:
    """Differences from ``old`` to ``new``; triggers are dated ``as_of`` (when ``new`` took effect)."""
    changes: list[ObjectChange] = []
    old_zones, new_zones = old.zone_index(), new.zone_index()
    old_assets, new_assets = old.asset_index(), new.asset_index()
    old_conduits = {c.id: c for c in old.conduits}
    new_conduits = {c.id: c for c in new.conduits}
    changes += _by_id("zones", old_zones, new_zones)
    changes += _by_id("conduits", old_conduits, new_conduits, {"flows"})
    changes += _by_id("assets", old_assets, new_assets)
    old_flows, new_flows = _flows(old), _flows(new)
    for key in sorted(set(old_flows) | set(new_flows)):
        if key not in old_flows:
            changes.append(ObjectChange("flows", key, ChangeKind.ADDED))
        elif key not in new_flows:
            changes.append(ObjectChange("flows", key, ChangeKind.REMOVED))
        else:
            fields = _field_changes(_dump(old_flows[key][1]), _dump(new_flows[key][1]))
            if fields:
                changes.append(ObjectChange("flows", key, ChangeKind.CHANGED, fields))
    # Other sections are compared whole: the calendar does not depend on them item by item.
    for name in sorted(SiteDocument.model_fields):
        if name in ("zones", "conduits", "assets"):
            continue
        a = old.model_dump(mode="json", include={name}).get(name)
        b = new.model_dump(mode="json", include={name}).get(name)
        if a != b:
            changes.append(ObjectChange(name, name, ChangeKind.CHANGED, _section_summary(a, b)))

    triggers = _triggers(old, new, as_of)
    return SiteDiff(changes=tuple(changes), triggers=tuple(triggers))


def _section_summary(a: Any, b: Any) -> tuple[FieldChange, ...]:
    if isinstance(a, list) and isinstance(b, list):
        ids_a = {x.get("id") for x in a if isinstance(x, dict)} - {None}
        ids_b = {x.get("id") for x in b if isinstance(x, dict)} - {None}
        out = []
        if ids_b - ids_a:
            out.append(FieldChange("added", None, sorted(ids_b - ids_a)))
        if ids_a - ids_b:
            out.append(FieldChange("removed", sorted(ids_a - ids_b), None))
        if not out:
            out.append(FieldChange("items", len(a), len(b)))
        return tuple(out)
    if isinstance(a, dict) and isinstance(b, dict):
        return _field_changes(a, b)
    return (FieldChange("value", a, b),)


def _triggers(old: SiteDocument, new: SiteDocument, as_of: dt.date) -> list[Trigger]:
    zones = new.zone_index()
    out: dict[tuple[str, str, tuple[str, ...]], Trigger] = {}

    def add(kind: ChangeType, ref: str, zone_ids: set[str | None], reason: str) -> None:
        ids = tuple(sorted(z for z in zone_ids if z is not None and z in zones))
        if not ids:
            return
        out.setdefault(
            (kind.value, ref, ids),
            Trigger(TriggerSource.SITE_DIFF, ref, kind.value, as_of, ids, f"site diff: {reason}"),
        )

    def exposed(zone_id: str) -> bool:
        z = zones.get(zone_id)
        return z is not None and z.kind in EXPOSED_KINDS

    def inner(ids: Iterable[str]) -> set[str | None]:
        # The zones that are reassessed are the plant-side ends, not the external zone itself.
        return {z for z in ids if not exposed(z)}

    # Zones
    old_zones = old.zone_index()
    for zid, z in zones.items():
        before = old_zones.get(zid)
        if before is None:
            if not exposed(zid):
                add(ChangeType.ARCHITECTURE_CHANGE, f"zone:{zid}", {zid}, f"new zone {zid}")
        elif (before.kind, before.purdue_level, before.parent) != (
            z.kind,
            z.purdue_level,
            z.parent,
        ):
            add(
                ChangeType.ARCHITECTURE_CHANGE,
                f"zone:{zid}",
                {zid},
                f"zone {zid} changed kind, level or parent",
            )
    # Conduits
    old_conduits = {c.id: c for c in old.conduits}
    new_conduits = {c.id: c for c in new.conduits}
    for cid, c in new_conduits.items():
        cbefore = old_conduits.get(cid)
        ends = set(c.zones)
        if cbefore is None or set(cbefore.zones) != ends:
            if any(exposed(z) for z in ends):
                add(
                    ChangeType.NEW_EXTERNAL_CONNECTIVITY,
                    f"conduit:{cid}",
                    inner(ends),
                    f"new conduit {cid} to an external or remote-access zone ({' - '.join(c.zones)})",
                )
            else:
                add(
                    ChangeType.ARCHITECTURE_CHANGE,
                    f"conduit:{cid}",
                    set[str | None](ends),
                    f"new conduit {cid} ({' - '.join(c.zones)})",
                )
        elif set(cbefore.protections) - set(c.protections):
            lost = ", ".join(sorted(p.value for p in set(cbefore.protections) - set(c.protections)))
            add(
                ChangeType.ARCHITECTURE_CHANGE,
                f"conduit:{cid}",
                set[str | None](ends),
                f"conduit {cid} lost protections: {lost}",
            )
    for cid, c in old_conduits.items():
        if cid not in new_conduits:
            add(
                ChangeType.ARCHITECTURE_CHANGE,
                f"conduit:{cid}",
                set[str | None](c.zones),
                f"conduit {cid} removed",
            )
    # Flows on conduits that existed before (new conduits are covered above)
    old_flows = _flows(old)
    for key, (c, f) in sorted(_flows(new).items()):
        if key in old_flows or c.id not in old_conduits:
            continue
        if f.remote_access or exposed(f.source) or exposed(f.destination):
            add(
                ChangeType.NEW_EXTERNAL_CONNECTIVITY,
                f"flow:{key}",
                inner({f.source, f.destination}),
                f"new {'remote access ' if f.remote_access else ''}flow {key}",
            )
        else:
            add(
                ChangeType.NEW_INTEGRATION,
                f"flow:{key}",
                {str(f.source), str(f.destination)},
                f"new flow {key}",
            )
    # Assets
    old_assets = old.asset_index()
    for aid, a in sorted(new.asset_index().items()):
        abefore = old_assets.get(aid)
        if a.criticality in CRITICAL and (abefore is None or abefore.criticality not in CRITICAL):
            what = "new" if abefore is None else "newly"
            add(
                ChangeType.NEW_CRITICAL_ASSET,
                f"asset:{aid}",
                {a.zone},
                f"{what} {a.criticality.value}-criticality asset {aid}",
            )
        if abefore is not None and abefore.zone != a.zone:
            add(
                ChangeType.ARCHITECTURE_CHANGE,
                f"asset:{aid}",
                {abefore.zone, a.zone},
                f"asset {aid} moved from zone {abefore.zone} to {a.zone}",
            )
        if (
            abefore is not None
            and a.vendor_support is SupportStatus.END_OF_SUPPORT
            and abefore.vendor_support is not SupportStatus.END_OF_SUPPORT
        ):
            add(
                ChangeType.VENDOR_END_OF_SUPPORT,
                f"asset:{aid}",
                {a.zone},
                f"asset {aid} is now out of vendor support",
            )
    return sorted(out.values(), key=lambda t: (t.kind, t.ref, t.zones))


__all__ = ["ChangeKind", "FieldChange", "ObjectChange", "SiteDiff", "diff_sites", "flow_key"]
