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
- a ``physicalLocation`` points at the file and line where the finding's first object is
  written (:func:`site_locations` finds them, also across the files of a site directory), or
  at the site file alone;
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


_SECTIONS = {"zones": ObjectKind.ZONE, "conduits": ObjectKind.CONDUIT, "assets": ObjectKind.ASSET}


def locations_from_texts(texts: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """Where each zone, conduit and asset is written: ``"zone:<id>" -> (file, line)``.

    ``texts`` maps file names to YAML text (one site file, or the section files of a site
    directory). Each file is composed once (no object construction, safe), so this is cheap
    next to loading the site. Files that do not parse are skipped: locations are a bonus.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    out: dict[str, tuple[str, int]] = {}
    for name in sorted(texts):
        try:
            root = YAML(typ="safe").compose(texts[name])
        except YAMLError:
            continue
        if not isinstance(root, MappingNode):
            continue
        for key, value in root.value:
            kind = _SECTIONS.get(key.value) if isinstance(key, ScalarNode) else None
            if kind is None or not isinstance(value, SequenceNode):
                continue
            for item in value.value:
                if not isinstance(item, MappingNode):
                    continue
                for k, v in item.value:
                    if isinstance(k, ScalarNode) and k.value == "id" and isinstance(v, ScalarNode):
                        out.setdefault(f"{kind.value}:{v.value}", (name, item.start_mark.line + 1))
    return out


def site_locations(path: str | Path) -> dict[str, tuple[str, int]]:
    """:func:`locations_from_texts` for a site file or a directory of section files."""
    p = Path(path)
    files = [p] if p.is_file() else sorted(f for f in p.glob("*.y*ml") if f.is_file())
    return locations_from_texts({str(f): f.read_text(encoding="utf-8-sig") for f in files})


def _where(
    f: Finding,
    site_file: str | None,
    lines: Mapping[str, int] | None,
    locations: Mapping[str, tuple[str, int]] | None,
) -> tuple[str | None, int | None]:
    if not f.objects:
        return site_file, None
    kind, ident = f.refs[0]
    key = f"{kind.value}:{ident}"
    if locations and key in locations:
        return locations[key]
    if lines:
        return site_file, lines.get(key, lines.get(ident))
    return site_file, None


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
    where: tuple[str | None, int | None],
    artifacts: dict[str, int],
    waived: WaivedFinding | None = None,
) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {"name": ident, "kind": kind.value, "fullyQualifiedName": f"{_PLURAL[kind]}/{ident}"}
            for kind, ident in f.refs
        ]
    }
    file, line = where
    if file is not None:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": _uri(file), "index": artifacts.setdefault(file, len(artifacts))}
        }
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
    locations: Mapping[str, tuple[str, int]] | None = None,
) -> dict[str, Any]:
    """The check report as a SARIF 2.1.0 log (a dict ready for ``json.dumps``).

    Each result points at the object its finding is mainly about:

    - ``locations`` (from :func:`site_locations`) maps ``"zone:<id>"``, ``"conduit:<id>"``,
      ``"asset:<id>"`` to ``(file, line)``; use it for a site directory, where zones and
      conduits live in different files;
    - otherwise ``lines`` maps the same keys (or bare ids) to 1-based lines in ``site_file``;
    - otherwise results point at ``site_file`` without a line, or have only logical locations.
    """
    rule_ids = sorted(RULES)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    disabled = frozenset(report.disabled_rules)
    artifacts: dict[str, int] = {}
    if site_file is not None:
        artifacts[site_file] = 0
    results = [
        _result(f, index, _where(f, site_file, lines, locations), artifacts) for f in report.findings
    ]
    results += [
        _result(w.finding, index, _where(w.finding, site_file, lines, locations), artifacts, w)
        for w in report.waived
    ]
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
    if artifacts:
        run["artifacts"] = [
            {"location": {"uri": _uri(name)}, "roles": ["analysisTarget"]}
            for name, _ in sorted(artifacts.items(), key=lambda item: item[1])
        ]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


__all__ = [
    "LEVELS",
    "SARIF_SCHEMA",
    "SARIF_VERSION",
    "locations_from_texts",
    "site_locations",
    "to_sarif",
]
