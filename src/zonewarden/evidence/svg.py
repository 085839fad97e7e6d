"""Make an SVG safe to inline in an evidence package.

The diagram is built from untrusted names, escaped by :mod:`zonewarden.evidence.diagram`; this is
the second line: the SVG is parsed as XML and re-serialised keeping only drawing elements and
attributes (no ``script``, ``foreignObject`` or embedded documents, no ``on*`` event handlers,
no links leaving the document). Anything that does not parse is refused, not inlined.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

_ALLOWED = frozenset(
    {
        "svg", "g", "path", "polygon", "polyline", "ellipse", "circle", "rect", "line", "text",
        "tspan", "title", "desc", "defs", "linearGradient", "radialGradient", "stop", "clipPath",
        "marker", "a",
    }
)  # fmt: skip


class UnsafeSVG(ValueError):
    pass


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sanitise_svg(svg: str) -> str:
    """``svg`` reduced to safe drawing markup, as an ``<svg>`` element string (no XML prolog)."""
    try:
        root = ET.fromstring(svg.encode("utf-8"))
    except ET.ParseError as exc:
        raise UnsafeSVG(f"diagram is not well-formed SVG: {exc}") from exc
    if _local(root.tag) != "svg":
        raise UnsafeSVG("diagram root element is not <svg>")

    def clean(el: ET.Element) -> None:
        for child in list(el):
            if not isinstance(child.tag, str) or _local(child.tag) not in _ALLOWED:
                el.remove(child)
                continue
            clean(child)
        for name in list(el.attrib):
            local = _local(name).lower()
            value = el.attrib[name].strip().lower()
            if local.startswith("on") or local == "style" and ("url(" in value or "expression" in value):
                del el.attrib[name]
            elif local == "href" and not value.startswith("#"):
                del el.attrib[name]

    clean(root)
    # Keep width/height (WeasyPrint needs an intrinsic size); CSS scales it down to the page.
    root.set("class", "diagram")
    root.set("role", "img")
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


__all__ = ["UnsafeSVG", "sanitise_svg"]
