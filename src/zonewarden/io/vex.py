"""Read supplier VEX: a CSAF VEX document (``document.category`` ``csaf_vex``) or a CycloneDX
document with ``vulnerabilities[].analysis`` (CycloneDX VEX, alone or inside an SBOM).

Every statement comes out with its JSON pointer. The file is refused whole (JSON pointer and
why; nothing is stored by the caller) when it is unreadable, when the CSAF reader cannot
interpret it, or when a CSAF VEX ``known_not_affected`` product has neither a flag (the
justification label) nor an impact statement in ``threats`` (the VEX profile requires one:
a "not affected" without a reason is not evidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zonewarden.domain.advisories import FlatAdvisory
from zonewarden.errors import InputError, Problem
from zonewarden.io.sbom import _pointer, at, load_json, read_sbom

MAX_VEX_BYTES = 16 * 1024 * 1024

#: CSAF product status group -> VEX state.
_CSAF_STATES = {
    "known_not_affected": "not_affected",
    "known_affected": "affected", "first_affected": "affected", "last_affected": "affected",
    "fixed": "fixed", "first_fixed": "fixed",
    "under_investigation": "under_investigation",
}
#: CycloneDX analysis state -> VEX state. ``false_positive`` is not a supplier's product
#: statement (it says a scanner was wrong), so it is kept but closes nothing.
_CDX_STATES = {
    "not_affected": "not_affected", "exploitable": "affected", "resolved": "fixed",
    "resolved_with_pedigree": "fixed", "in_triage": "under_investigation", "false_positive": "false_positive",
}


@dataclass(frozen=True)
class VexStatement:
    vulnerability: str
    state: str
    vendor: str | None
    product: str | None
    purl: str | None
    cpe: str | None
    version: str | None
    justification: str | None
    impact: str | None
    pointer: str
    ref: str | None = None
    """CycloneDX: the bom-ref it is about (resolved against the asset's SBOM when not in the file)."""
    component_supplier: str | None = None


@dataclass(frozen=True)
class VexDocument:
    format: str
    """``csaf`` or ``cyclonedx``."""
    document_id: str
    publisher: str
    statements: tuple[VexStatement, ...]


def read_vex(data: bytes, source: str) -> VexDocument:
    """The statements of a CSAF VEX or CycloneDX VEX document; InputError when unreadable."""
    doc = load_json(data, source, kind="VEX", limit=MAX_VEX_BYTES)
    if doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(data, doc, source)
    if isinstance(doc.get("document"), dict):
        return _csaf(data, doc, source)
    raise InputError(f"{source}: not a VEX document", [at(
        "neither a CSAF document (/document) nor CycloneDX (bomFormat \"CycloneDX\")", (), source)])


def _csaf(data: bytes, doc: dict[str, Any], source: str) -> VexDocument:
    from zonewarden.engines.products import flatten_advisory
    from zonewarden.io.csaf import read_csaf

    category = (doc.get("document") or {}).get("category")
    if category != "csaf_vex":
        raise InputError(f"{source}: not a CSAF VEX document", [at(
            f"category is {category!r}, not \"csaf_vex\"; a security advisory is ingested with "
            "`zonewarden advisories ingest`", ("document", "category"), source)])
    result = read_csaf(data, source=source, strict=False)
    if not result.accepted or result.document is None:
        raise InputError(f"{source}: the CSAF VEX document cannot be read",
                         [Problem(result.error or "not interpretable", file=source)])
    return csaf_statements(result.document, flatten_advisory(result.document, source=source), source)


def csaf_statements(doc: dict[str, Any], flat: FlatAdvisory, source: str) -> VexDocument:
    """The statements of a CSAF VEX document already read and flattened (``advisories ingest``
    and ``sync`` have both): InputError with the JSON pointer of every incomplete statement."""
    products = {p.product_id: p for p in flat.products}
    groups: dict[str, set[str]] = {}
    for g in (doc.get("product_tree") or {}).get("product_groups") or []:
        if isinstance(g, dict) and g.get("group_id"):
            groups[str(g["group_id"])] = {str(x) for x in g.get("product_ids") or []}
    statements: list[VexStatement] = []
    problems: list[Problem] = []
    for i, v in enumerate(doc.get("vulnerabilities") or []):
        vid = v.get("cve") or next((x.get("text") for x in v.get("ids") or [] if isinstance(x, dict)), None)
        if not vid:
            problems.append(at("no cve and no ids: the statement cannot say which vulnerability it is about",
                               ("vulnerabilities", i), source))
            continue

        def covering(items: Any, pid: str) -> list[dict[str, Any]]:
            out = []
            for item in items or []:
                if not isinstance(item, dict):
                    continue
                ids = set(item.get("product_ids") or [])
                for gid in item.get("group_ids") or []:
                    ids |= groups.get(str(gid), set())
                if pid in ids:
                    out.append(item)
            return out

        for group, pids in (v.get("product_status") or {}).items():
            state = _CSAF_STATES.get(group)
            if state is None:
                continue
            for j, pid in enumerate(pids or []):
                entry = products.get(pid)
                ptr = ["vulnerabilities", i, "product_status", group, j]
                flags = [f.get("label") for f in covering(v.get("flags"), pid) if f.get("label")]
                impacts = [t.get("details") for t in covering(v.get("threats"), pid)
                           if t.get("category") == "impact" and t.get("details")]
                if state == "not_affected" and not flags and not impacts:
                    problems.append(at(f"product {pid} is known_not_affected without a flag (justification) or an "
                                       "impact statement in threats; the CSAF VEX profile requires one", ptr, source))
                    continue
                statements.append(VexStatement(
                    vulnerability=str(vid), state=state,
                    vendor=entry.vendor if entry else None,
                    product=(entry.product or entry.name) if entry else None,
                    purl=entry.purl if entry else None, cpe=entry.cpe if entry else None,
                    version=entry.version_text if entry else None,
                    justification=", ".join(str(f) for f in flags) or None, impact=" ".join(str(t) for t in impacts)[:4000] or None,
                    pointer=_pointer(ptr),
                ))
    if problems:
        raise InputError(f"{source}: the VEX statements are incomplete", problems)
    publisher = str((doc["document"].get("publisher") or {}).get("name") or "unknown publisher")
    return VexDocument("csaf", flat.id, publisher, tuple(statements))


def _cyclonedx(data: bytes, doc: dict[str, Any], source: str) -> VexDocument:
    bom = read_sbom(data, source)
    by_ref = {c.bom_ref: c for c in bom.components if c.bom_ref}
    statements = []
    problems = [at("the analysis names no component (vulnerabilities[].affects[].ref): what is not affected?",
                   a.pointer.strip("/").split("/")[:2], source) for a in bom.analyses if not a.refs]
    if problems:
        raise InputError(f"{source}: the VEX statements are incomplete", problems)
    for a in bom.analyses:
        state = _CDX_STATES.get(a.state, a.state)
        for ref in a.refs:
            local = ref.split("#", 1)[1] if ref and ref.startswith("urn:cdx:") and "#" in ref else ref
            c = by_ref.get(local) if local else None
            statements.append(VexStatement(
                vulnerability=a.vulnerability, state=state, vendor=c.supplier if c else None,
                product=c.name if c else None, purl=c.purl if c else None, cpe=c.cpe if c else None,
                version=c.version if c else None, justification=a.justification, impact=a.detail,
                pointer=a.pointer, ref=local, component_supplier=c.supplier if c else None,
            ))
    return VexDocument("cyclonedx", bom.serial_number or source.rsplit("/", 1)[-1], bom.author or "unknown publisher",
                       tuple(statements))
