"""SSVC deployer patch application priority for one vulnerability on one asset.

Decision points (CERT/CC SSVC; our own encoding in ``engines/data/ssvc_tables.json``, proven
equal to the published tables by ``tests/engines/test_ssvc.py``):

* **Exploitation** (``ssvc:E:1.1.0``): ``active`` when the CVE is in CISA's KEV catalog or the
  advisory reports exploitation; ``public-poc`` when the advisory says public exploits or a
  proof of concept exist; else ``none``.
* **System Exposure** (``ssvc:EXP:1.0.1``): given by the caller (it comes from zones and
  conduits); :func:`exposure_from` states the rules.
* **Automatable** (``ssvc:A:2.0.0``): ``yes`` when the CVSS v3 vector has ``AV:N``, ``AC:L``,
  ``PR:N`` and ``UI:N`` (reachable over the network, no privileges, no user: the kill chain's
  steps 1-4 can be scripted); ``no`` otherwise.
* **Human Impact** (``ssvc:HI:2.0.2``) from Safety Impact x Mission Impact (table DT_HI),
  taken from the asset or, when it does not say, from its criticality.

Every input is an :class:`SsvcInput` carrying its value, where it came from and any
:class:`Override` (with a justification) that replaced it; the decision records them all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Mapping
from functools import lru_cache
from importlib import resources

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
    SsvcDecision,
    SsvcInput,
)
from zonewarden.domain.common import Criticality
from zonewarden.domain.site import Asset, ZoneKind
from zonewarden.errors import InputError, Problem

INPUTS = ("exploitation", "exposure", "automatable", "safety_impact", "mission_impact", "human_impact")
_ENUMS: dict[str, type] = {
    "exploitation": Exploitation,
    "exposure": Exposure,
    "automatable": Automatable,
    "safety_impact": SafetyImpact,
    "mission_impact": MissionImpact,
    "human_impact": HumanImpact,
}

# Defaults when the asset does not state its impacts: the plant's criticality class is the
# best proxy we have. Chosen so that the human impact follows the class (low -> low, medium ->
# medium, high -> high, critical -> very high); a person can override either input.
CRITICALITY_DEFAULTS: dict[Criticality, tuple[SafetyImpact, MissionImpact]] = {
    Criticality.LOW: (SafetyImpact.NEGLIGIBLE, MissionImpact.DEGRADED),
    Criticality.MEDIUM: (SafetyImpact.MARGINAL, MissionImpact.MEF_FAILURE),
    Criticality.HIGH: (SafetyImpact.CRITICAL, MissionImpact.MEF_FAILURE),
    Criticality.CRITICAL: (SafetyImpact.CRITICAL, MissionImpact.MISSION_FAILURE),
}


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[tuple[SafetyImpact, MissionImpact], HumanImpact], dict[tuple[Exploitation, Exposure, Automatable, HumanImpact], Priority]]:
    raw = json.loads(resources.files("zonewarden.engines").joinpath("data/ssvc_tables.json").read_text("utf-8"))
    hi_raw = raw["human_impact"]
    hi = {
        (SafetyImpact(row), MissionImpact(col)): HumanImpact(value)
        for row, values in hi_raw["rows"].items()
        for col, value in zip(hi_raw["columns"], values, strict=True)
    }
    dp_raw = raw["deployer"]
    dp = {}
    for row, values in dp_raw["rows"].items():
        e, x, a = row.split("/")
        for col, value in zip(dp_raw["columns"], values, strict=True):
            dp[(Exploitation(e), Exposure(x), Automatable(a), HumanImpact(col))] = Priority(value)
    if len(hi) != 16 or len(dp) != 72:  # every combination exactly once
        raise RuntimeError("packaged SSVC tables are incomplete")
    return hi, dp


def human_impact_table() -> dict[tuple[SafetyImpact, MissionImpact], HumanImpact]:
    """The Human Impact table (DT_HI 1.0.0) as a mapping."""
    return dict(_tables()[0])


def deployer_table() -> dict[tuple[Exploitation, Exposure, Automatable, HumanImpact], Priority]:
    """The deployer patch application priority table (DT_DP 1.0.0) as a mapping."""
    return dict(_tables()[1])


def human_impact(safety: SafetyImpact, mission: MissionImpact) -> HumanImpact:
    return _tables()[0][(safety, mission)]


def patch_priority(exploitation: Exploitation, exposure: Exposure, automatable: Automatable, impact: HumanImpact) -> Priority:
    return _tables()[1][(exploitation, exposure, automatable, impact)]


# --- inputs -------------------------------------------------------------------------------

_EXTERNAL_KINDS = frozenset({ZoneKind.EXTERNAL})
_CONTROLLED_KINDS = frozenset({ZoneKind.DMZ, ZoneKind.REMOTE_ACCESS, ZoneKind.ENTERPRISE})


def exposure_from(zone_kind: ZoneKind | None, reachable_from_external: bool, reachable_via_remote_access: bool) -> SsvcInput:
    """System Exposure from where the asset sits and what can reach it.

    Rules, first match wins:

    1. reachable from an external zone (the internet, or a vendor's or partner's network
       through a conduit) -> ``open``;
    2. the asset is itself in an ``external`` zone -> ``open``;
    3. reachable over a remote-access path (VPN, jump host, remote-access zone), or the asset
       sits in a DMZ, remote-access or enterprise zone -> ``controlled``;
    4. otherwise (an isolated cell: only its own and lower-trust-initiated OT traffic) ->
       ``small``.
    """
    if reachable_from_external:
        value, why = Exposure.OPEN, "reachable from an external zone (internet, vendor or partner network)"
    elif zone_kind in _EXTERNAL_KINDS:
        value, why = Exposure.OPEN, "the asset is in an external zone"
    elif reachable_via_remote_access:
        value, why = Exposure.CONTROLLED, "reachable over a remote-access path"
    elif zone_kind in _CONTROLLED_KINDS:
        assert zone_kind is not None
        value, why = Exposure.CONTROLLED, f"the asset is in a {zone_kind.value} zone"
    else:
        where = f"a {zone_kind.value} zone" if zone_kind is not None else "no zone"
        value, why = Exposure.SMALL, f"in {where} with no external or remote-access path"
    return SsvcInput(name="exposure", value=value.value, computed=value.value, source=f"zones and conduits: {why}")


def exploitation_from(
    cve: str | None, *, kev: Container[str] | None = None, evidence: ExploitEvidence | None = None
) -> SsvcInput:
    """Exploitation from KEV membership and what the advisory says (strongest wins)."""
    in_kev = bool(cve and kev is not None and cve.upper() in kev)
    return _exploitation(cve if in_kev else None, kev is not None, evidence)


# The inputs below are pure functions of a few values and immutable: a site with thousands of
# findings asks for the same ones over and over, so each is built once.
@lru_cache(maxsize=65536)
def _exploitation(cve_in_kev: str | None, kev_given: bool, evidence: ExploitEvidence | None) -> SsvcInput:
    if cve_in_kev:
        value, source = Exploitation.ACTIVE, f"{cve_in_kev} is in CISA's Known Exploited Vulnerabilities catalog"
    elif evidence is not None:
        value, source = evidence.level, f"the advisory says: {evidence.quote!r} ({evidence.pointer})"
    elif not kev_given:
        value, source = Exploitation.NONE, "no KEV catalog given and the advisory reports no exploitation"
    else:
        value, source = Exploitation.NONE, "not in KEV and the advisory reports no exploitation or public exploit"
    return SsvcInput(name="exploitation", value=value.value, computed=value.value, source=source)


_CVSS3 = re.compile(r"^CVSS:3\.[01]/")


@lru_cache(maxsize=4096)
def automatable_from_cvss(vector: str | None) -> SsvcInput:
    """``yes`` for CVSS v3 ``AV:N/AC:L/PR:N/UI:N``; a missing or unreadable vector counts as ``yes``.

    Unknown is treated as automatable on purpose: it can only raise the priority, and a
    person who knows better records an override with the reason.
    """
    if not vector or not _CVSS3.match(vector.strip()):
        why = "no CVSS v3 vector" if not vector else f"{vector!r} is not a CVSS v3 vector"
        return SsvcInput(
            name="automatable", value="yes", computed="yes", source=f"{why}: assumed automatable (override if known)"
        )
    metrics = dict(part.split(":", 1) for part in vector.strip().split("/")[1:] if ":" in part)
    needed = {"AV": "N", "AC": "L", "PR": "N", "UI": "N"}
    missing = [k for k in needed if k not in metrics]
    if missing:
        return SsvcInput(
            name="automatable",
            value="yes",
            computed="yes",
            source=f"CVSS vector {vector!r} lacks {', '.join(missing)}: assumed automatable (override if known)",
        )
    ok = all(metrics[k] == v for k, v in needed.items())
    shown = "/".join(f"{k}:{metrics[k]}" for k in needed)
    value = Automatable.YES if ok else Automatable.NO
    rule = "network, low complexity, no privileges, no user interaction" if ok else "not all of AV:N/AC:L/PR:N/UI:N"
    return SsvcInput(name="automatable", value=value.value, computed=value.value, source=f"CVSS v3 {shown}: {rule}")


def impacts_from(asset: Asset) -> tuple[SsvcInput, SsvcInput]:
    """Safety and mission impact of the asset, or defaults from its criticality class."""
    return _impacts(asset.id, asset.criticality, asset.safety_impact, asset.mission_impact)


@lru_cache(maxsize=65536)
def _impacts(
    asset_id: str, criticality: Criticality, safety_impact: SafetyImpact | None, mission_impact: MissionImpact | None
) -> tuple[SsvcInput, SsvcInput]:
    default_safety, default_mission = CRITICALITY_DEFAULTS[criticality]
    if safety_impact is not None:
        safety = SsvcInput(
            name="safety_impact", value=safety_impact.value, computed=safety_impact.value,
            source=f"asset {asset_id}: safety_impact",
        )
    else:
        safety = SsvcInput(
            name="safety_impact", value=default_safety.value, computed=default_safety.value,
            source=f"default for criticality {criticality.value} (asset {asset_id} sets no safety_impact)",
        )
    if mission_impact is not None:
        mission = SsvcInput(
            name="mission_impact", value=mission_impact.value, computed=mission_impact.value,
            source=f"asset {asset_id}: mission_impact",
        )
    else:
        mission = SsvcInput(
            name="mission_impact", value=default_mission.value, computed=default_mission.value,
            source=f"default for criticality {criticality.value} (asset {asset_id} sets no mission_impact)",
        )
    return safety, mission


def _apply(item: SsvcInput, override: Override | None) -> SsvcInput:
    if override is None:
        return item
    enum = _ENUMS[item.name]
    try:
        enum(override.value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)  # type: ignore[attr-defined]
        raise InputError(
            f"override of {item.name}: {override.value!r} is not one of {allowed}",
            [Problem(f"use one of {allowed}", ("overrides", item.name, "value"))],
        ) from None
    who = f" by {override.by}" if override.by else ""
    return item.model_copy(
        update={"value": override.value, "override": override, "source": f"overridden{who}: {override.justification}"}
    )


@lru_cache(maxsize=256)
def _human_impact_input(safety: str, mission: str) -> SsvcInput:
    computed = human_impact(SafetyImpact(safety), MissionImpact(mission))
    return SsvcInput(
        name="human_impact", value=computed.value, computed=computed.value, source=f"DT_HI: safety {safety} x mission {mission}"
    )


def decide(
    *,
    asset: Asset,
    exposure: SsvcInput | Exposure,
    cve: str | None = None,
    kev: Container[str] | None = None,
    evidence: ExploitEvidence | None = None,
    cvss_vector: str | None = None,
    overrides: Mapping[str, Override] | None = None,
) -> SsvcDecision:
    """The deployer priority for ``cve`` on ``asset``; every input shown with its source.

    ``exposure`` is normally :func:`exposure_from`'s result (or a bare value the caller
    computed). ``overrides`` maps input names (:data:`INPUTS`) to overrides. Overriding
    ``human_impact`` replaces the table lookup; otherwise it is computed from the (possibly
    overridden) safety and mission impacts.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(INPUTS))
    if unknown:
        raise InputError(
            f"unknown SSVC input(s) {', '.join(unknown)}; known: {', '.join(INPUTS)}",
            [Problem(f"unknown input {k!r}", ("overrides", k)) for k in unknown],
        )
    if isinstance(exposure, Exposure):
        exposure = SsvcInput(name="exposure", value=exposure.value, computed=exposure.value, source="given by the caller")
    e = _apply(exploitation_from(cve, kev=kev, evidence=evidence), overrides.get("exploitation"))
    x = _apply(exposure, overrides.get("exposure"))
    a = _apply(automatable_from_cvss(cvss_vector), overrides.get("automatable"))
    safety, mission = impacts_from(asset)
    safety = _apply(safety, overrides.get("safety_impact"))
    mission = _apply(mission, overrides.get("mission_impact"))
    hi = _apply(_human_impact_input(safety.value, mission.value), overrides.get("human_impact"))
    priority = patch_priority(Exploitation(e.value), Exposure(x.value), Automatable(a.value), HumanImpact(hi.value))
    return SsvcDecision(
        exploitation=e,
        exposure=x,
        automatable=a,
        safety_impact=safety,
        mission_impact=mission,
        human_impact=hi,
        priority=priority,
    )


__all__ = [
    "CRITICALITY_DEFAULTS",
    "INPUTS",
    "automatable_from_cvss",
    "decide",
    "deployer_table",
    "exploitation_from",
    "exposure_from",
    "human_impact",
    "human_impact_table",
    "impacts_from",
    "patch_priority",
]
