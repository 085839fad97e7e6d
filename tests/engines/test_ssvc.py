"""SSVC: our tables equal CERT/CC's, and every input is sourced and overridable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zonewarden.domain.advisories import (
    Automatable,
    Exploitation,
    ExploitEvidence,
    Exposure,
    HumanImpact,
    MissionImpact,
    Override,
    Priority,
    SafetyImpact,
)
from zonewarden.domain.common import Criticality
from zonewarden.domain.site import Asset, AssetType, ZoneKind
from zonewarden.engines.ssvc import (
    automatable_from_cvss,
    decide,
    deployer_table,
    exploitation_from,
    exposure_from,
    human_impact,
    human_impact_table,
    patch_priority,
)
from zonewarden.errors import InputError

TABLES = "ssvc/decision_tables/ssvc"

# The published tables use value keys; ours use our enums. This is the whole mapping.
E = {"N": Exploitation.NONE, "P": Exploitation.PUBLIC_POC, "A": Exploitation.ACTIVE}
EXP = {"S": Exposure.SMALL, "C": Exposure.CONTROLLED, "O": Exposure.OPEN}
A = {"N": Automatable.NO, "Y": Automatable.YES}
HI = {"L": HumanImpact.LOW, "M": HumanImpact.MEDIUM, "H": HumanImpact.HIGH, "VH": HumanImpact.VERY_HIGH}
DSOI = {"D": Priority.DEFER, "S": Priority.SCHEDULED, "O": Priority.OUT_OF_CYCLE, "I": Priority.IMMEDIATE}
SI = {"N": SafetyImpact.NEGLIGIBLE, "M": SafetyImpact.MARGINAL, "R": SafetyImpact.CRITICAL, "C": SafetyImpact.CATASTROPHIC}
MI = {"D": MissionImpact.DEGRADED, "MSC": MissionImpact.CRIPPLED, "MEF": MissionImpact.MEF_FAILURE, "MF": MissionImpact.MISSION_FAILURE}


@pytest.mark.shared
def test_deployer_table_equals_published_row_for_row(shared_data: Path) -> None:
    published = json.loads((shared_data / TABLES / "deployer_patch_application_priority_1_0_0.json").read_text())
    assert published["key"] == "DT_DP" and published["version"] == "1.0.0"
    ours = deployer_table()
    assert len(published["mapping"]) == len(ours) == 72
    for row in published["mapping"]:
        key = (E[row["ssvc:E:1.1.0"]], EXP[row["ssvc:EXP:1.0.1"]], A[row["ssvc:A:2.0.0"]], HI[row["ssvc:HI:2.0.2"]])
        assert ours[key] is DSOI[row["ssvc:DSOI:1.0.0"]], f"row {row}"


@pytest.mark.shared
def test_human_impact_table_equals_published_row_for_row(shared_data: Path) -> None:
    published = json.loads((shared_data / TABLES / "human_impact_1_0_0.json").read_text())
    ours = human_impact_table()
    assert len(published["mapping"]) == len(ours) == 16
    for row in published["mapping"]:
        key = (SI[row["ssvc:SI:2.0.1"]], MI[row["ssvc:MI:2.0.0"]])
        assert ours[key] is HI[row["ssvc:HI:2.0.2"]], f"row {row}"


def test_table_corners() -> None:
    assert patch_priority(Exploitation.NONE, Exposure.SMALL, Automatable.NO, HumanImpact.LOW) is Priority.DEFER
    assert patch_priority(Exploitation.ACTIVE, Exposure.OPEN, Automatable.YES, HumanImpact.VERY_HIGH) is Priority.IMMEDIATE
    assert human_impact(SafetyImpact.CATASTROPHIC, MissionImpact.DEGRADED) is HumanImpact.VERY_HIGH


@pytest.mark.parametrize(
    ("kind", "external", "remote", "expected", "words"),
    [
        (ZoneKind.CONTROL, True, False, Exposure.OPEN, "external"),
        (ZoneKind.EXTERNAL, False, False, Exposure.OPEN, "external zone"),
        (ZoneKind.CONTROL, False, True, Exposure.CONTROLLED, "remote-access path"),
        (ZoneKind.DMZ, False, False, Exposure.CONTROLLED, "dmz zone"),
        (ZoneKind.FIELD, False, False, Exposure.SMALL, "no external or remote-access path"),
        (None, False, False, Exposure.SMALL, "no zone"),
    ],
)
def test_exposure_rules(kind: ZoneKind | None, external: bool, remote: bool, expected: Exposure, words: str) -> None:
    got = exposure_from(kind, external, remote)
    assert got.value == expected.value and words in got.source


@pytest.mark.parametrize(
    ("vector", "expected", "words"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "yes", "AV:N/AC:L/PR:N/UI:N"),
        ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "no", "PR:L"),
        ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "no", "AV:A"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H/E:P", "no", "UI:R"),
        (None, "yes", "no CVSS v3 vector"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "yes", "not a CVSS v3 vector"),
    ],
)
def test_automatable_from_cvss(vector: str | None, expected: str, words: str) -> None:
    got = automatable_from_cvss(vector)
    assert got.value == expected and words in got.source


def test_exploitation_sources() -> None:
    kev = {"CVE-2021-44228"}
    assert exploitation_from("CVE-2021-44228", kev=kev).value == "active"
    assert "Known Exploited" in exploitation_from("cve-2021-44228", kev=kev).source
    ev = ExploitEvidence(level=Exploitation.PUBLIC_POC, quote="Public exploits are available", pointer="/document/notes/3/text")
    poc = exploitation_from("CVE-2020-1", kev=kev, evidence=ev)
    assert poc.value == "public-poc" and "/document/notes/3/text" in poc.source
    assert exploitation_from("CVE-2020-1", kev=kev).value == "none"


def _asset(**kw: object) -> Asset:
    return Asset(id="plc-1", name="Line 1 PLC", type=AssetType.PLC, **kw)


def test_decide_shows_every_input_and_its_source() -> None:
    d = decide(
        asset=_asset(criticality=Criticality.HIGH),
        exposure=exposure_from(ZoneKind.CONTROL, False, True),
        cve="CVE-2021-44228",
        kev={"CVE-2021-44228"},
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    )
    assert (d.exploitation.value, d.exposure.value, d.automatable.value) == ("active", "controlled", "yes")
    assert (d.safety_impact.value, d.mission_impact.value, d.human_impact.value) == ("critical", "mef-failure", "high")
    assert "default for criticality high" in d.safety_impact.source
    assert d.priority is Priority.OUT_OF_CYCLE and d.overridden == ()


def test_asset_impacts_beat_criticality_defaults() -> None:
    d = decide(
        asset=_asset(criticality=Criticality.LOW, safety_impact=SafetyImpact.CATASTROPHIC, mission_impact=MissionImpact.DEGRADED),
        exposure=Exposure.SMALL,
    )
    assert d.human_impact.value == "very-high" and d.safety_impact.source == "asset plc-1: safety_impact"
    assert d.exposure.source == "given by the caller"


def test_overrides_are_recorded_with_justification() -> None:
    why = Override(value="small", justification="Cell is air-gapped since change CR-1042", by="ot-lead")
    d = decide(
        asset=_asset(criticality=Criticality.CRITICAL),
        exposure=exposure_from(ZoneKind.CONTROL, True, False),
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        overrides={"exposure": why, "human_impact": Override(value="medium", justification="Redundant line covers it")},
    )
    assert d.exposure.value == "small" and d.exposure.computed == "open"
    assert d.exposure.override == why and "CR-1042" in d.exposure.source and "ot-lead" in d.exposure.source
    assert d.human_impact.value == "medium" and d.human_impact.computed == "very-high"
    assert d.priority is Priority.SCHEDULED  # none x small x yes x medium
    assert d.overridden == ("exposure", "human_impact")


def test_bad_overrides_are_input_errors() -> None:
    with pytest.raises(InputError, match="not one of small, controlled, open"):
        decide(asset=_asset(), exposure=Exposure.SMALL, overrides={"exposure": Override(value="huge", justification="because I say so")})
    with pytest.raises(InputError, match="unknown SSVC input"):
        decide(asset=_asset(), exposure=Exposure.SMALL, overrides={"urgency": Override(value="x", justification="because I say so")})
    with pytest.raises(ValueError):
        Override(value="small", justification="short")
