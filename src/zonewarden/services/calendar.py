"""Reassessment triggers from the import history of a site.

A re-import that adds a conduit to an external or remote-access zone, or a high or critical
asset, changes the zone's risk picture even when nobody raised a change record. Each import
appends an audit event that lists the ids added per section; together with the current
document this says what is new and since when. The first import of a site is its baseline, not
a change, so it triggers nothing.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from zonewarden.domain.common import Criticality
from zonewarden.domain.governance import ChangeType
from zonewarden.domain.site import SiteDocument, ZoneKind
from zonewarden.engines.cadence import Trigger, TriggerSource
from zonewarden.services import audit
from zonewarden.store.db import Store

_EXPOSED = (ZoneKind.EXTERNAL, ZoneKind.REMOTE_ACCESS)
_CRITICAL = (Criticality.HIGH, Criticality.CRITICAL)


def import_triggers(store: Store, doc: SiteDocument) -> list[Trigger]:
    """Triggers for conduits to exposed zones and critical assets added by re-imports of
    ``doc``'s site, dated on the import day in the site's time zone. Objects that no longer
    exist, or no longer qualify, trigger nothing."""
    tz = zoneinfo.ZoneInfo(doc.site.timezone or "UTC")
    zones = doc.zone_index()
    conduits = {c.id: c for c in doc.conduits}
    assets = doc.asset_index()
    out: list[Trigger] = []
    with store.read() as conn:
        imports = [e for e in audit.events(conn, site_id=doc.site.id) if e.action == "site.import"]
    for event in imports:
        if not event.before:  # the first import creates the site: the baseline
            continue
        changes: dict[str, Any] = (event.after or {}).get("changes") or {}
        day = event.at.astimezone(tz).date()
        for cid in (changes.get("conduits") or {}).get("added") or []:
            c = conduits.get(cid)
            if c is None:
                continue
            kinds = {z: zones[z].kind for z in c.zones if z in zones}
            if not any(k in _EXPOSED for k in kinds.values()):
                continue
            inner = tuple(sorted(z for z, k in kinds.items() if k not in _EXPOSED))
            if inner:
                out.append(
                    Trigger(
                        TriggerSource.IMPORT,
                        f"conduit:{cid}",
                        ChangeType.NEW_EXTERNAL_CONNECTIVITY.value,
                        day,
                        inner,
                        f"import #{event.seq} on {day} added conduit {cid} to an external or "
                        "remote-access zone",
                    )
                )
        for aid in (changes.get("assets") or {}).get("added") or []:
            a = assets.get(aid)
            if a is None or a.zone is None or a.criticality not in _CRITICAL:
                continue
            out.append(
                Trigger(
                    TriggerSource.IMPORT,
                    f"asset:{aid}",
                    ChangeType.NEW_CRITICAL_ASSET.value,
                    day,
                    (a.zone,),
                    f"import #{event.seq} on {day} added {a.criticality.value}-criticality asset {aid}",
                )
            )
    return out


__all__ = ["import_triggers"]
