"""Read a CycloneDX SBOM (JSON, specVersion 1.4, 1.5 or 1.6): the software components of one
asset, and the VEX analyses it carries (``vulnerabilities[].analysis``).

The file is untrusted input. It is refused whole, with the JSON pointer and why, when it is
over the size limit, not UTF-8 JSON, not CycloneDX, of a spec version we do not read, or not
valid against that version's schema (cyclonedx-python-lib's schema files: checked with
jsonschema-rs, and a failure explained by the library's own validator, which is ~40x slower).
The validated document is then read directly: the library's model deserializer costs ~0.6 s per
1,000 components and adds nothing after validation. Nothing of a refused file is kept by the callers.

Component identifiers: a ``purl`` must parse as a package URL (packageurl-python) and a
``cpe`` must be a CPE 2.3 formatted string or a 2.2 URI; a malformed one is an error at its
pointer, not silently dropped (it is what matching relies on).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from zonewarden.errors import InputError, Problem

#: Largest SBOM accepted. A firmware SBOM of several thousand components is a few MB.
MAX_SBOM_BYTES = 32 * 1024 * 1024
SPEC_VERSIONS = ("1.4", "1.5", "1.6")
#: CycloneDX analysis states (vulnerabilities[].analysis.state).
VEX_STATES = ("resolved", "resolved_with_pedigree", "exploitable", "in_triage", "false_positive", "not_affected")


@dataclass(frozen=True)
class Component:
    """One software component of the SBOM."""

    name: str
    version: str | None
    purl: str | None
    cpe: str | None
    supplier: str | None
    bom_ref: str | None
    pointer: str


@dataclass(frozen=True)
class Analysis:
    """One CycloneDX VEX analysis: a vulnerability and the components it is about."""

    vulnerability: str
    state: str
    justification: str | None
    detail: str | None
    refs: tuple[str, ...]
    """bom-refs of the affected components (``affects[].ref``)."""
    publisher: str | None
    """``vulnerabilities[].source.name`` or the SBOM's manufacturer/supplier/author."""
    pointer: str


@dataclass(frozen=True)
class Sbom:
    spec_version: str
    serial_number: str | None
    version: int | None
    subject: str | None
    """``metadata.component``: name and version of what the SBOM describes."""
    author: str | None
    """``metadata.manufacturer`` / ``supplier`` / ``manufacture`` / first author: who wrote it."""
    components: tuple[Component, ...]
    analyses: tuple[Analysis, ...]


def _pointer(path: Iterable[str | int]) -> str:
    out = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return out or "/"


def at(message: str, path: Iterable[str | int], source: str) -> Problem:
    """A problem located by its JSON pointer (written first: ``/components/3/purl: ...``)."""
    return Problem(f"{_pointer(path)}: {message}", file=source)


def _refuse(source: str, why: str, problems: list[Problem]) -> InputError:
    return InputError(f"{source}: {why}", problems)


def load_json(data: bytes, source: str, *, kind: str = "SBOM", limit: int = MAX_SBOM_BYTES) -> dict[str, Any]:
    """The document as a JSON object, or InputError naming the byte limit, line and column, or pointer."""
    if len(data) > limit:
        raise _refuse(source, f"the {kind} is {len(data):,} bytes, over the limit of {limit:,}",
                      [Problem(f"file too large ({len(data):,} bytes > {limit:,}); split it or raise the limit", file=source)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(source, f"the {kind} is not UTF-8",
                      [Problem(f"byte {exc.start} is not UTF-8: save the file as UTF-8 JSON", file=source)]) from None
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _refuse(source, f"the {kind} is not JSON",
                      [Problem(f"not JSON: {exc.msg}", file=source, line=exc.lineno, column=exc.colno)]) from None
    if not isinstance(doc, dict):
        raise _refuse(source, f"the {kind} is not a JSON object", [Problem("the document must be a JSON object", file=source)])
    return doc


def read_sbom(data: bytes, source: str, *, limit: int = MAX_SBOM_BYTES) -> Sbom:
    """Parse and validate a CycloneDX JSON SBOM; InputError (with every problem found) otherwise."""
    doc = load_json(data, source, limit=limit)
    if doc.get("bomFormat") != "CycloneDX":
        raise _refuse(source, "not a CycloneDX SBOM", [at(
            f"bomFormat must be \"CycloneDX\" (found {_shown(doc.get('bomFormat'))}); only CycloneDX JSON is read",
            ("bomFormat",), source)])
    spec = doc.get("specVersion")
    if spec not in SPEC_VERSIONS:
        raise _refuse(source, "unsupported CycloneDX version", [at(
            f"specVersion {_shown(spec)} is not read; use CycloneDX {', '.join(SPEC_VERSIONS)}",
            ("specVersion",), source)])
    problems = schema_problems(doc, spec, source)
    if problems:
        raise _refuse(source, f"not a valid CycloneDX {spec} document", problems)
    components = list(_components(doc.get("components") or [], ["components"]))
    meta = doc.get("metadata") or {}
    problems = [p for c in components for p in _identifier_problems(c, source)]
    if problems:
        raise _refuse(source, "a component identifier is malformed", problems)
    subject = meta.get("component") or {}
    return Sbom(
        spec_version=spec,
        serial_number=doc.get("serialNumber"),
        version=doc.get("version"),
        subject=" ".join(str(subject[k]) for k in ("name", "version") if subject.get(k)) or None,
        author=_author(meta),
        components=tuple(components),
        analyses=tuple(_analyses(doc, _author(meta))),
    )


def _shown(value: Any) -> str:
    return "nothing" if value is None else orjson.dumps(value).decode()[:60]


def _no_network(uri: str) -> Any:
    raise ValueError(f"{uri}: the CycloneDX schemas are read from cyclonedx-python-lib, never fetched")


@cache
def _fast_validator(spec: str) -> Any:
    """jsonschema-rs over cyclonedx-python-lib's own schema files (the ones its validator uses),
    built once: the library's pure-Python validator takes ~1.3 s per 1,000 components, so it
    runs only to explain a document this one finds invalid. None when it cannot be built."""
    try:
        import jsonschema_rs
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.schema._res import BOM_JSON

        file = BOM_JSON[_SCHEMA_VERSION[spec](SchemaVersion)]
        if file is None:
            return None
        path = Path(file)
        resources = [(f"http://cyclonedx.org/schema/{p.name}", orjson.loads(p.read_bytes()))
                     for p in sorted(path.parent.glob("*.schema.json")) if not p.name.startswith("bom-")]
        registry = jsonschema_rs.Registry(resources, retriever=_no_network)
        return jsonschema_rs.validator_for(orjson.loads(path.read_bytes()), registry=registry, validate_formats=True,
                                           retriever=_no_network)
    except Exception:  # a library layout we do not know: the library's own validator decides
        return None


_SCHEMA_VERSION = {"1.4": lambda v: v.V1_4, "1.5": lambda v: v.V1_5, "1.6": lambda v: v.V1_6}


@cache
def _library_validator(spec: str) -> Any:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(_SCHEMA_VERSION[spec](SchemaVersion))


def schema_problems(doc: dict[str, Any], spec: str, source: str) -> list[Problem]:
    """Schema errors of the document (cyclonedx-python-lib's strict JSON validator), with pointers."""
    fast = _fast_validator(spec)
    if fast is not None and fast.is_valid(doc):
        return []
    error = _library_validator(spec).validate_str(orjson.dumps(doc).decode())
    if error is None:
        return []
    data = error.data
    path = tuple(getattr(data, "absolute_path", ()) or ())
    message = getattr(data, "message", None) or str(data)
    return [at(f"CycloneDX {spec} schema: {message[:300]}", path, source)]


def _author(meta: dict[str, Any]) -> str | None:
    for key in ("manufacturer", "supplier", "manufacture"):
        name = (meta.get(key) or {}).get("name")
        if name:
            return str(name)
    comp = meta.get("component") or {}
    for key in ("supplier", "manufacturer"):
        name = (comp.get(key) or {}).get("name")
        if name:
            return str(name)
    if comp.get("publisher"):
        return str(comp["publisher"])
    authors = meta.get("authors") or []
    return str(authors[0].get("name")) if authors and authors[0].get("name") else None


def _components(items: list[Any], path: list[str | int]) -> Iterator[Component]:
    """Every component, depth first (nested ``components`` too)."""
    for i, c in enumerate(items):
        here = [*path, i]
        supplier = (c.get("supplier") or {}).get("name") or (c.get("manufacturer") or {}).get("name") or c.get("publisher")
        yield Component(
            name=str(c["name"]).strip(),
            version=(str(c["version"]).strip() or None) if c.get("version") is not None else None,
            purl=(c.get("purl") or "").strip() or None,
            cpe=(c.get("cpe") or "").strip() or None,
            supplier=str(supplier).strip() if supplier else None,
            bom_ref=c.get("bom-ref"),
            pointer=_pointer(here),
        )
        if c.get("components"):
            yield from _components(c["components"], [*here, "components"])


def _identifier_problems(c: Component, source: str) -> list[Problem]:
    from zonewarden.engines.sbom_match import cpe_parts, purl_parts

    out = []
    path = tuple(int(p) if p.isdigit() else p for p in c.pointer.strip("/").split("/"))
    if c.purl and purl_parts(c.purl) is None:
        out.append(at(f"purl {c.purl[:120]!r} is not a package URL (pkg:type/namespace/name@version)",
                      (*path, "purl"), source))
    if c.cpe and cpe_parts(c.cpe) is None:
        out.append(at(f"cpe {c.cpe[:120]!r} is neither a CPE 2.3 string (cpe:2.3:part:vendor:product:version:...) "
                      "nor a CPE 2.2 URI (cpe:/part:vendor:product:version)", (*path, "cpe"), source))
    return out


def _analyses(doc: dict[str, Any], author: str | None) -> Iterator[Analysis]:
    for i, v in enumerate(doc.get("vulnerabilities") or []):
        analysis = v.get("analysis")
        if not analysis or not analysis.get("state"):
            continue
        yield Analysis(
            vulnerability=str(v.get("id") or "").strip(),
            state=str(analysis["state"]),
            justification=analysis.get("justification"),
            detail=analysis.get("detail") or (analysis.get("response") and "response: " + ", ".join(analysis["response"])) or None,
            refs=tuple(str(a.get("ref")) for a in v.get("affects") or [] if a.get("ref")),
            publisher=(v.get("source") or {}).get("name") or author,
            pointer=_pointer(["vulnerabilities", i, "analysis"]),
        )
