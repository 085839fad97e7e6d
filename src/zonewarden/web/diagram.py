"""The site's zone/conduit diagram on a page: the evidence diagram (escaped names, sanitised
SVG) with each zone made a link to its page, and no inline styles (the CSP forbids them)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from markupsafe import Markup

from zonewarden.evidence.svg import SVG_NS, XLINK_NS, sanitise_svg
from zonewarden.web.render import _url


def linked_diagram(svg: str, site_id: str, zone_ids: Iterable[str], highlight: Iterable[str] = ()) -> Markup:
    """``svg`` (from ``queries.architecture.diagram``) with every zone ``<g id="zone-...">`` wrapped
    in a link to the zone's page; only ids of real zones become links. The groups whose id is in
    ``highlight`` (``zone-<id>``, ``conduit-<id>``: a path of the paths explorer) get the class
    ``on-path``."""
    known = set(zone_ids)
    marked = set(highlight)
    root = ET.fromstring(sanitise_svg(svg))
    for el in root.iter():
        el.attrib.pop("style", None)
        if el.get("id", "") in marked:
            el.set("class", (el.get("class", "") + " on-path").strip())
    for parent in list(root.iter()):
        for i, child in enumerate(list(parent)):
            ident = child.get("id", "")
            if child.tag == f"{{{SVG_NS}}}g" and ident.startswith("zone-") and ident[5:] in known:
                link = ET.Element(f"{{{SVG_NS}}}a", {"href": _url("sites", site_id, "zones", ident[5:]),
                                                      "aria-label": f"zone {ident[5:]}"})
                parent.remove(child)
                link.append(child)
                parent.insert(i, link)
    root.set("role", "group")
    root.set("aria-label", "Zones and conduits by Purdue level; each zone links to its page")
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return Markup(ET.tostring(root, encoding="unicode", short_empty_elements=True))
