"""SARIF 2.1.0 output of the segmentation check (OASIS SARIF v2.1.0 errata 01).

SARIF is what code-scanning dashboards (GitHub, GitLab, Azure DevOps, DefectDojo) read, so a
site file kept in a repository gets its segmentation findings shown next to the file.

Mapping:

- one ``reportingDescriptor`` per check rule, with the rule's documentation as help text and
  ``defaultConfiguration.enabled`` false for rules the site disabled;
- one ``result`` per finding; ``level`` is ``error`` for critical/high, ``warning`` for medium,
  ``note`` for low/info, and the zonewarden severity is kept in ``properties.severity`` (plus a
  numeric ``security-severity`` on the rule, which GitHub uses to rank alerts);
- every zone, conduit and asset a finding involves is a ``logicalLocation`` (``kind`` is
  ``zone``, ``conduit`` or ``asset``; ``fullyQualifiedName`` is ``zones/<id>`` ...);
- when the site file is given, a ``physicalLocation`` points at it, with the line of the
  finding's first object when the caller knows it;
- waived findings are results with an accepted external ``suppression`` carrying the
  justification, approver and expiry;
- mistakes in the check settings become ``toolConfigurationNotifications``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from zonewarden.engines.segmentation import (
    RULES,
    CheckReport,
    Finding,
    ObjectKind,
    Severity,
    WaivedFinding,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

# GitHub code scanning ranks alerts by a CVSS-like number in the rule's properties:
# >= 9.0 critical, >= 7.0 high, >= 4.0 medium, otherwise low.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}

_PLURAL = {
    ObjectKind.ZONE: "zones",
    ObjectKind.CONDUIT: "conduits",
    ObjectKind.ASSET: "assets",
    ObjectKind.OBJECT: "objects",
}


def _uri(site_file: str) -> str:
    path = PurePath(site_file)
    if path.is_absolute():
        return Path(site_file).as_uri()
    # A relative URI, resolved against the repository root by code-scanning tools.
    return quote(path.as_posix())


def _fingerprint(f: Finding) -> str:
    # Stable across runs and message wording changes: rule + the objects involved.
    return hashlib.sha256("\x1f".join((f.rule, *f.objects)).encode()).hexdigest()


def _line(f: Finding, lines: Mapping[str, int] | None) -> int | None:
    if not lines or not f.objects:
        return None
    kind, ident = f.refs[0]
    return lines.get(f"{kind.value}:{ident}", lines.get(ident))


def _rule_descriptor(rule_id: str, disabled: frozenset[str]) -> dict[str, Any]:
    r = RULES[rule_id]
    markdown = (
        f"**{r.title}** ({r.severity.value})\n\n{r.finds}\n\n**Why it matters.** {r.why}\n\n"
        f"**How to fix.** {r.fix}\n\n**How to waive.** Add an entry under `checks.waivers` with "
        f"`rule: {r.id}`, the `objects` it covers, a `justification`, `approved_by` and `expires`."
    )
    return {
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.finds},
        "help": {"text": r.help_text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[r.severity], "enabled": r.id not in disabled},
        "properties": {
            "tags": ["security", "iec-62443", "segmentation"],
            "security-severity": SECURITY_SEVERITY[r.severity],
            "severity": r.severity.value,
        },
    }


def _result(
    f: Finding,
    index: Mapping[str, int],
    site_file: str | None,
    lines: Mapping[str, int] | None,
    waived: WaivedFinding | None = None,
) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {"name": ident, "kind": kind.value, "fullyQualifiedName": f"{_PLURAL[kind]}/{ident}"}
            for kind, ident in f.refs
        ]
    }
    if site_file is not None:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(site_file), "index": 0}}
        line = _line(f, lines)
        if line is not None and line >= 1:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [location],
        "partialFingerprints": {"zonewardenObjects/v1": _fingerprint(f)},
        "properties": {"severity": f.severity.value, "objects": list(f.objects), "fix": f.fix},
    }
    if waived is not None:
        w = waived.waiver
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": w.justification,
                "properties": {"approvedBy": w.approved_by, "expires": w.expires.isoformat()},
            }
        ]
    return out


def to_sarif(
    report: CheckReport,
    *,
    site_file: str | None,
    tool_version: str,
    lines: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The check report as a SARIF 2.1.0 log (a dict ready for ``json.dumps``).

    ``lines`` optionally maps object ids to 1-based line numbers in ``site_file``; keys may be
    ``"zone:<id>"``, ``"conduit:<id>"``, ``"asset:<id>"`` (preferred, ids are only unique per
    section) or the bare id.
    """
    rule_ids = sorted(RULES)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    disabled = frozenset(report.disabled_rules)
    results = [_result(f, index, site_file, lines) for f in report.findings]
    results += [_result(w.finding, index, site_file, lines, w) for w in report.waived]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "zonewarden",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": [_rule_descriptor(rid, disabled) for rid in rule_ids],
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolConfigurationNotifications": [
                    {"level": "warning", "message": {"text": f"{p.pointer}: {p.message}"}}
                    for p in report.problems
                ],
            }
        ],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if site_file is not None:
        run["artifacts"] = [{"location": {"uri": _uri(site_file)}, "roles": ["analysisTarget"]}]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


__all__ = ["LEVELS", "SARIF_SCHEMA", "SARIF_VERSION", "to_sarif"]
