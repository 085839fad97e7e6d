"""Mandatory tests 6.1.8 - 6.1.10: CVSS objects, their computation and consistency.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from zonewarden.io.csaf import cvss as cvsslib
from zonewarden.io.csaf.mandatory.context import Context, Dev, _list
from zonewarden.io.csaf.mandatory.registry import mandatory
from zonewarden.io.csaf.model import Deviation, join
from zonewarden.io.csaf.schema import compiled

# ---- 6.1.8 - 6.1.10: CVSS -------------------------------------------------------------------


def _cvss_objects(ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, pointer, object) of every CVSS object; collected once per document."""
    found = ctx.memo.get("cvss")
    if found is None:
        found = ctx.memo["cvss"] = []
        for vptr, vuln in ctx.vulns:
            for i, score in enumerate(_list(vuln.get("scores"))):
                if type(score) is not dict:
                    continue
                for kind in ("cvss_v2", "cvss_v3"):
                    obj = score.get(kind)
                    if type(obj) is dict:
                        found.append((kind, f"{vptr}/scores/{i}/{kind}", obj))
    return found


def _all_cvss_findings(ctx: Context) -> list[tuple[str, tuple[tuple[str, str, str], ...]]]:
    """(pointer, findings) of every CVSS object with findings; shared by 6.1.9 and 6.1.10."""
    found = ctx.memo.get("cvss_findings")
    if found is None:
        found = ctx.memo["cvss_findings"] = []
        for kind, ptr, obj in _cvss_objects(ctx):
            findings = _cvss_findings(kind, obj)
            if findings:
                found.append((ptr, findings))
    return found


@mandatory("6.1.8", "Invalid CVSS")
def invalid_cvss(ctx: Context) -> Dev:
    schemas = compiled()
    if schemas is None:
        return  # the missing schema is already reported by schema validation
    # The CSAF schema embeds these same FIRST schemas: a schema-valid document can only fail
    # here by putting a v3 object under cvss_v2 or the reverse, checked first below.
    skip_schema = ctx.schema_valid
    for kind, ptr, obj in _cvss_objects(ctx):
        version = obj.get("version")
        allowed = ("2.0",) if kind == "cvss_v2" else ("3.0", "3.1")
        if version not in allowed:
            yield Deviation("6.1.8", join(ptr, "version"), f"{kind} must have version "
                            f"{' or '.join(allowed)}, found {version!r}")
            continue
        if skip_schema:
            continue
        for err in schemas.cvss[str(version)].iter_errors(obj):
            yield Deviation("6.1.8", join(ptr, *err.instance_path),
                            f"not valid against the FIRST CVSS {version} schema: "
                            f"{err.message[:200]}")


def _parsed_cvss(kind: str, obj: dict[str, Any]) -> cvsslib.Parsed | None:
    parsed = cvsslib.parse_vector(obj.get("vectorString"))
    if parsed is None:
        return None
    if (kind == "cvss_v2") != (parsed.version == "2.0"):
        return None
    return parsed


def _same(a: Any, b: float) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a - b) < 1e-6


def _compute_cvss_findings(kind: str, obj: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """(test id, property, message) for every 6.1.9 / 6.1.10 finding in one CVSS object."""
    parsed = _parsed_cvss(kind, obj)
    if parsed is None:
        return ()  # an unparseable vector is the schema's and 6.1.8's finding
    out = []
    if parsed.version == "2.0":
        scores = cvsslib.scores_v2(parsed)
        severities: dict[str, str] = {}
    else:
        scores = cvsslib.scores_v3(parsed)
        severities = {
            "baseSeverity": cvsslib.severity_v3(scores["baseScore"]),
            "temporalSeverity": cvsslib.severity_v3(scores["temporalScore"]),
            "environmentalSeverity": cvsslib.severity_v3(scores["environmentalScore"]),
        }
    for prop, expected in scores.items():
        if prop in obj and not _same(obj[prop], expected):
            out.append(("6.1.9", prop, f"{prop} is {obj[prop]!r} but the vector "
                        f"{parsed.version} computes to {expected}"))
    for prop, expected_sev in severities.items():
        if prop in obj and obj[prop] != expected_sev:
            out.append(("6.1.9", prop, f"{prop} is {obj[prop]!r} but the computed score "
                        f"gives {expected_sev}"))
    if kind == "cvss_v3" and obj.get("version") != parsed.version:
        out.append(("6.1.10", "version", f"version {obj.get('version')!r} but the vector is "
                    f"CVSS {parsed.version}"))
    for prop, implied in cvsslib.properties_of(parsed).items():
        if prop in obj and obj[prop] != implied:
            out.append(("6.1.10", prop, f"{prop} is {obj[prop]!r} but the vector says "
                        f"{implied}"))
    return tuple(out)


@lru_cache(maxsize=4096)
def _cached_cvss_findings(kind: str, items: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, str, str], ...]:
    return _compute_cvss_findings(kind, dict(items))


def _cvss_findings(kind: str, obj: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    # Advisories repeat the same CVSS objects (same vector, same scores) many times over:
    # check each distinct object once per process.
    try:
        return _cached_cvss_findings(kind, tuple(obj.items()))
    except TypeError:  # an unhashable value in a malformed object
        return _compute_cvss_findings(kind, obj)


@mandatory("6.1.9", "Invalid CVSS computation")
def invalid_cvss_computation(ctx: Context) -> Dev:
    for ptr, findings in _all_cvss_findings(ctx):
        for test_id, prop, message in findings:
            if test_id == "6.1.9":
                yield Deviation("6.1.9", join(ptr, prop), message)


@mandatory("6.1.10", "Inconsistent CVSS")
def inconsistent_cvss(ctx: Context) -> Dev:
    for ptr, findings in _all_cvss_findings(ctx):
        for test_id, prop, message in findings:
            if test_id == "6.1.10":
                yield Deviation("6.1.10", join(ptr, prop), message)
