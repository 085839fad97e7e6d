"""Matching advisories against the software components of an asset's SBOM (issue 14 item 5).

A component is matched like an asset that carries only its identifiers: each component
becomes a *component asset* with the component's purl, CPE and version and no vendor or
product name, so :class:`zonewarden.engines.matching.InventoryIndex` ties it to a product
entry only through the entry's ``product_identification_helper`` (``purl``: type, namespace
and name equal; ``cpe``: vendor and product equal), and the entry's version or range decides
against the component's version, with every rule of the matcher (unparseable range,
no version -> needs-review, never a silent "not affected").

The findings of component assets are then *folded* into the asset that carries the
component: its entry matches are added to the asset's own (from its vendor/product/model),
the status is aggregated as for any asset, and each such match names the component (name,
version, purl or CPE, JSON pointer in the SBOM) in its product name and matched value, so the
explanation says which component made the asset affected.

Names are not matched for components on purpose: a library called ``core`` or ``http`` by
an unknown supplier would tie to every advisory of a vendor with a product of that name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from zonewarden.domain.advisories import EntryMatch, Finding
from zonewarden.domain.site import Asset
from zonewarden.engines.matching import _aggregate

#: Marks a component asset's id; never valid in a site file's ids, so it cannot collide.
_SEP = "\x1fsbom#"
_MARK = re.compile(r"^SBOM component #(\d+) ")


@dataclass(frozen=True)
class SbomComponent:
    """A stored component of an asset's SBOM (see :mod:`zonewarden.io.sbom`)."""

    seq: int
    name: str
    version: str | None
    purl: str | None
    cpe: str | None
    supplier: str | None
    pointer: str

    @property
    def label(self) -> str:
        ident = self.purl or self.cpe
        text = f"{self.name} {self.version}" if self.version else self.name
        return f"{text} ({ident})" if ident else text


@lru_cache(maxsize=65536)
def purl_parts(purl: str) -> tuple[tuple[str, str, str], str | None] | None:
    """((type, namespace, name), version) of a package URL, compared case-insensitively
    (pypi names also with ``_`` as ``-``); None when it is not one (packageurl-python)."""
    from packageurl import PackageURL

    try:
        p = PackageURL.from_string(purl.strip())
    except ValueError:
        return None
    ptype, ns, name = p.type.lower(), (p.namespace or "").lower(), p.name.lower()
    if ptype == "pypi":
        name = name.replace("_", "-")
    return (ptype, ns, name), p.version or None


_CPE23 = re.compile(r"^cpe:2\.3:[aho*\-]:", re.I)
_CPE22 = re.compile(r"^cpe:/[aho]?:", re.I)


@lru_cache(maxsize=65536)
def cpe_parts(cpe: str) -> tuple[str, str, str, str | None] | None:
    """(part, vendor, product, version) of a CPE 2.3 formatted string or a 2.2 URI (escapes
    and percent-encoding undone, lower case); version None for ``*``, ``-`` or none."""
    c = cpe.strip()
    if _CPE23.match(c):
        fields = [f.replace("\\", "") for f in re.split(r"(?<!\\):", c)]
        if len(fields) != 13:
            return None
        part, vendor, product, version = fields[2:6]
    elif _CPE22.match(c):
        from urllib.parse import unquote

        fields = [unquote(f) for f in c[5:].split(":")]
        if len(fields) < 3:
            return None
        part, vendor, product = fields[:3]
        version = fields[3] if len(fields) > 3 else ""
    else:
        return None
    if not vendor or not product or vendor in "*-" or product in "*-":
        return None
    version = version if version and version not in ("*", "-") else ""
    return part.lower(), vendor.lower(), product.lower(), version or None


def component_assets(
    assets: Sequence[Asset], components: Mapping[str, Sequence[SbomComponent]]
) -> tuple[list[Asset], dict[str, tuple[str, SbomComponent]]]:
    """One identifier-only asset per component with a purl or CPE, and ``{its id: (asset id,
    component)}``. Components of assets not in ``assets`` are left out (the asset is gone)."""
    out: list[Asset] = []
    parents: dict[str, tuple[str, SbomComponent]] = {}
    by_id = {a.id: a for a in assets}
    for asset_id, comps in components.items():
        parent = by_id.get(asset_id)
        if parent is None:
            continue
        for c in comps:
            if not (c.purl or c.cpe):
                continue
            version = c.version
            if version is None and c.purl:
                version = (purl_parts(c.purl) or ((), None))[1]  # type: ignore[assignment]
            if version is None and c.cpe:
                version = (cpe_parts(c.cpe) or (None, None, None, None))[3]
            cid = f"{asset_id}{_SEP}{c.seq}"
            # model_construct: the id is deliberately not a site-file id; the other fields
            # are identifiers the SBOM reader checked.
            out.append(Asset.model_construct(
                id=cid, name=c.name, type=parent.type, zone=parent.zone, vendor=None, product=None,
                model_number=None, version=version, cpe=c.cpe, purl=c.purl,
            ))
            parents[cid] = (asset_id, c)
    return out, parents


def _marked(m: EntryMatch, c: SbomComponent) -> EntryMatch:
    return m._replace(
        product_name=f"{m.product_name} [SBOM component {c.label}]",
        matched_value=f"SBOM component #{c.seq} {c.label} at {c.pointer}: {m.matched_value}",
    )


def component_seq(matched_value: str) -> int | None:
    """The SBOM component (its ``seq``) a stored match was made through, None for the asset itself."""
    m = _MARK.match(matched_value or "")
    return int(m.group(1)) if m else None


def fold_findings(found: Sequence[Finding], parents: Mapping[str, tuple[str, SbomComponent]]) -> tuple[Finding, ...]:
    """Findings of component assets merged into the findings of the assets carrying them."""
    if not parents:
        return tuple(found)
    own: dict[str, Finding] = {}
    extra: dict[str, list[EntryMatch]] = defaultdict(list)
    advisory_id = found[0].advisory_id if found else ""
    for f in found:
        hit = parents.get(f.asset_id)
        if hit is None:
            own[f.asset_id] = f
        else:
            extra[hit[0]].extend(_marked(m, hit[1]) for m in f.matches)
    if not extra:
        return tuple(found)
    for asset_id, ms in extra.items():
        base = own.get(asset_id)
        own[asset_id] = Finding(advisory_id, asset_id, *_aggregate([*(base.matches if base else ()), *ms]))
    return tuple(own[k] for k in sorted(own))
