"""CVSS v2.0, v3.0 and v3.1 vector parsing and score computation (for tests 6.1.9 / 6.1.10).

Formulas from FIRST's specifications (CVSS v2 guide section 3.2, CVSS v3.0 and v3.1
specification section 7 and, for v3.1, Appendix A's floating-point-safe Roundup).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

# ---- vector syntax -------------------------------------------------------------------------

# Each metric: vector abbreviation -> (JSON property name, {vector value: JSON value}).
V3_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("attackVector", {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}),
    "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
    "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "UI": ("userInteraction", {"N": "NONE", "R": "REQUIRED"}),
    "S": ("scope", {"U": "UNCHANGED", "C": "CHANGED"}),
    "C": ("confidentialityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "I": ("integrityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "A": ("availabilityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "E": ("exploitCodeMaturity",
          {"X": "NOT_DEFINED", "U": "UNPROVEN", "P": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH"}),
    "RL": ("remediationLevel",
           {"X": "NOT_DEFINED", "O": "OFFICIAL_FIX", "T": "TEMPORARY_FIX", "W": "WORKAROUND",
            "U": "UNAVAILABLE"}),
    "RC": ("reportConfidence", {"X": "NOT_DEFINED", "U": "UNKNOWN", "R": "REASONABLE", "C": "CONFIRMED"}),
    "CR": ("confidentialityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
    "IR": ("integrityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
    "AR": ("availabilityRequirement", {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
    "MAV": ("modifiedAttackVector",
            {"X": "NOT_DEFINED", "N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}),
    "MAC": ("modifiedAttackComplexity", {"X": "NOT_DEFINED", "L": "LOW", "H": "HIGH"}),
    "MPR": ("modifiedPrivilegesRequired", {"X": "NOT_DEFINED", "N": "NONE", "L": "LOW", "H": "HIGH"}),
    "MUI": ("modifiedUserInteraction", {"X": "NOT_DEFINED", "N": "NONE", "R": "REQUIRED"}),
    "MS": ("modifiedScope", {"X": "NOT_DEFINED", "U": "UNCHANGED", "C": "CHANGED"}),
    "MC": ("modifiedConfidentialityImpact", {"X": "NOT_DEFINED", "N": "NONE", "L": "LOW", "H": "HIGH"}),
    "MI": ("modifiedIntegrityImpact", {"X": "NOT_DEFINED", "N": "NONE", "L": "LOW", "H": "HIGH"}),
    "MA": ("modifiedAvailabilityImpact", {"X": "NOT_DEFINED", "N": "NONE", "L": "LOW", "H": "HIGH"}),
}
V3_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")

V2_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("accessVector", {"L": "LOCAL", "A": "ADJACENT_NETWORK", "N": "NETWORK"}),
    "AC": ("accessComplexity", {"H": "HIGH", "M": "MEDIUM", "L": "LOW"}),
    "Au": ("authentication", {"M": "MULTIPLE", "S": "SINGLE", "N": "NONE"}),
    "C": ("confidentialityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "I": ("integrityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "A": ("availabilityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    "E": ("exploitability",
          {"U": "UNPROVEN", "POC": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH", "ND": "NOT_DEFINED"}),
    "RL": ("remediationLevel",
           {"OF": "OFFICIAL_FIX", "TF": "TEMPORARY_FIX", "W": "WORKAROUND", "U": "UNAVAILABLE",
            "ND": "NOT_DEFINED"}),
    "RC": ("reportConfidence",
           {"UC": "UNCONFIRMED", "UR": "UNCORROBORATED", "C": "CONFIRMED", "ND": "NOT_DEFINED"}),
    "CDP": ("collateralDamagePotential",
            {"N": "NONE", "L": "LOW", "LM": "LOW_MEDIUM", "MH": "MEDIUM_HIGH", "H": "HIGH",
             "ND": "NOT_DEFINED"}),
    "TD": ("targetDistribution", {"N": "NONE", "L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": "NOT_DEFINED"}),
    "CR": ("confidentialityRequirement", {"L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": "NOT_DEFINED"}),
    "IR": ("integrityRequirement", {"L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": "NOT_DEFINED"}),
    "AR": ("availabilityRequirement", {"L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": "NOT_DEFINED"}),
}
V2_BASE = ("AV", "AC", "Au", "C", "I", "A")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed vector: CVSS version and metric abbreviation -> JSON enum value.

    Hashed by the vector text alone (the metrics follow from it), so it can key caches.
    """

    version: str
    metrics: dict[str, str]
    vector: str = ""

    def __hash__(self) -> int:
        return hash(self.vector)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parsed) and other.vector == self.vector


def parse_vector(vector: object) -> Parsed | None:
    """Parse a CVSS v2 or v3.x vector string; ``None`` when it is not a valid vector.

    Results are cached by vector string: advisories repeat the same few hundred vectors, so
    parsing and scoring each distinct one once keeps tests 6.1.9/6.1.10 cheap.
    """
    if not isinstance(vector, str):
        return None
    return _parse_vector(vector)


@lru_cache(maxsize=4096)
def _parse_vector(vector: str) -> Parsed | None:
    base: tuple[str, ...]
    if vector.startswith("CVSS:3.0/") or vector.startswith("CVSS:3.1/"):
        version, body, table, base = vector[5:8], vector[9:], V3_METRICS, V3_BASE
    else:
        version, body, table, base = "2.0", vector, V2_METRICS, V2_BASE
    metrics: dict[str, str] = {}
    for part in body.split("/"):
        key, sep, value = part.partition(":")
        if not sep or key not in table or key in metrics:
            return None
        json_value = table[key][1].get(value)
        if json_value is None:
            return None
        metrics[key] = json_value
    if any(k not in metrics for k in base):
        return None
    return Parsed(version, metrics, vector)


@lru_cache(maxsize=4096)
def properties_of(parsed: Parsed) -> dict[str, str]:
    """JSON property -> value implied by the vector; metrics absent from it are NOT_DEFINED."""
    table = V2_METRICS if parsed.version == "2.0" else V3_METRICS
    out = {}
    for key, (prop, values) in table.items():
        if key in parsed.metrics:
            out[prop] = parsed.metrics[key]
        elif "NOT_DEFINED" in values.values():
            out[prop] = "NOT_DEFINED"
    return out


# ---- v3.x scores --------------------------------------------------------------------------

_AV = {"NETWORK": 0.85, "ADJACENT_NETWORK": 0.62, "LOCAL": 0.55, "PHYSICAL": 0.2}
_AC = {"LOW": 0.77, "HIGH": 0.44}
_PR_U = {"NONE": 0.85, "LOW": 0.62, "HIGH": 0.27}
_PR_C = {"NONE": 0.85, "LOW": 0.68, "HIGH": 0.5}
_UI = {"NONE": 0.85, "REQUIRED": 0.62}
_CIA = {"HIGH": 0.56, "LOW": 0.22, "NONE": 0.0}
_E = {"NOT_DEFINED": 1.0, "HIGH": 1.0, "FUNCTIONAL": 0.97, "PROOF_OF_CONCEPT": 0.94, "UNPROVEN": 0.91}
_RL = {"NOT_DEFINED": 1.0, "UNAVAILABLE": 1.0, "WORKAROUND": 0.97, "TEMPORARY_FIX": 0.96,
       "OFFICIAL_FIX": 0.95}
_RC = {"NOT_DEFINED": 1.0, "CONFIRMED": 1.0, "REASONABLE": 0.96, "UNKNOWN": 0.92}
_REQ = {"NOT_DEFINED": 1.0, "HIGH": 1.5, "MEDIUM": 1.0, "LOW": 0.5}


def _roundup_30(x: float) -> float:
    return math.ceil(x * 10) / 10


def _roundup_31(x: float) -> float:
    # v3.1 Appendix A: avoid float artefacts such as 4.000000000000001 -> 4.1.
    i = round(x * 100000)
    if i % 10000 == 0:
        return i / 100000.0
    return (math.floor(i / 10000) + 1) / 10.0


def severity_v3(score: float) -> str:
    """Qualitative severity rating of a v3.x score."""
    if score == 0:
        return "NONE"
    if score < 4.0:
        return "LOW"
    if score < 7.0:
        return "MEDIUM"
    if score < 9.0:
        return "HIGH"
    return "CRITICAL"


@lru_cache(maxsize=4096)
def scores_v3(parsed: Parsed) -> dict[str, float]:
    """baseScore, temporalScore and environmentalScore of a v3.0 / v3.1 vector."""
    m = parsed.metrics
    roundup = _roundup_31 if parsed.version == "3.1" else _roundup_30
    changed = m["S"] == "CHANGED"
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    pr = (_PR_C if changed else _PR_U)[m["PR"]]
    exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
    if impact <= 0:
        base = 0.0
    elif changed:
        base = roundup(min(1.08 * (impact + exploitability), 10))
    else:
        base = roundup(min(impact + exploitability, 10))
    t = _E[m.get("E", "NOT_DEFINED")] * _RL[m.get("RL", "NOT_DEFINED")] * _RC[m.get("RC", "NOT_DEFINED")]
    temporal = roundup(base * t)

    def mod(key: str, base_key: str) -> str:
        value = m.get(key, "NOT_DEFINED")
        return m[base_key] if value == "NOT_DEFINED" else value

    m_changed = mod("MS", "S") == "CHANGED"
    miss = min(
        1
        - (1 - _REQ[m.get("CR", "NOT_DEFINED")] * _CIA[mod("MC", "C")])
        * (1 - _REQ[m.get("IR", "NOT_DEFINED")] * _CIA[mod("MI", "I")])
        * (1 - _REQ[m.get("AR", "NOT_DEFINED")] * _CIA[mod("MA", "A")]),
        0.915,
    )
    if m_changed:
        if parsed.version == "3.1":
            m_impact = 7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02) ** 13
        else:
            m_impact = 7.52 * (miss - 0.029) - 3.25 * (miss - 0.02) ** 15
    else:
        m_impact = 6.42 * miss
    m_pr = (_PR_C if m_changed else _PR_U)[mod("MPR", "PR")]
    m_expl = 8.22 * _AV[mod("MAV", "AV")] * _AC[mod("MAC", "AC")] * m_pr * _UI[mod("MUI", "UI")]
    if m_impact <= 0:
        env = 0.0
    elif m_changed:
        env = roundup(roundup(min(1.08 * (m_impact + m_expl), 10)) * t)
    else:
        env = roundup(roundup(min(m_impact + m_expl, 10)) * t)
    return {"baseScore": base, "temporalScore": temporal, "environmentalScore": env}


# ---- v2 scores ----------------------------------------------------------------------------

_V2_AV = {"LOCAL": 0.395, "ADJACENT_NETWORK": 0.646, "NETWORK": 1.0}
_V2_AC = {"HIGH": 0.35, "MEDIUM": 0.61, "LOW": 0.71}
_V2_AU = {"MULTIPLE": 0.45, "SINGLE": 0.56, "NONE": 0.704}
_V2_CIA = {"NONE": 0.0, "PARTIAL": 0.275, "COMPLETE": 0.660}
_V2_E = {"UNPROVEN": 0.85, "PROOF_OF_CONCEPT": 0.9, "FUNCTIONAL": 0.95, "HIGH": 1.0, "NOT_DEFINED": 1.0}
_V2_RL = {"OFFICIAL_FIX": 0.87, "TEMPORARY_FIX": 0.90, "WORKAROUND": 0.95, "UNAVAILABLE": 1.0,
          "NOT_DEFINED": 1.0}
_V2_RC = {"UNCONFIRMED": 0.90, "UNCORROBORATED": 0.95, "CONFIRMED": 1.0, "NOT_DEFINED": 1.0}
_V2_CDP = {"NONE": 0.0, "LOW": 0.1, "LOW_MEDIUM": 0.3, "MEDIUM_HIGH": 0.4, "HIGH": 0.5,
           "NOT_DEFINED": 0.0}
_V2_TD = {"NONE": 0.0, "LOW": 0.25, "MEDIUM": 0.75, "HIGH": 1.0, "NOT_DEFINED": 1.0}
_V2_REQ = {"LOW": 0.5, "MEDIUM": 1.0, "HIGH": 1.51, "NOT_DEFINED": 1.0}


def _round1(x: float) -> float:
    # Round half up to one decimal; the small epsilon absorbs binary artefacts (x.x4999999).
    return math.floor(x * 10 + 0.5 + 1e-9) / 10


@lru_cache(maxsize=4096)
def scores_v2(parsed: Parsed) -> dict[str, float]:
    """baseScore, temporalScore and environmentalScore of a v2 vector."""
    m = parsed.metrics
    expl = 20 * _V2_AV[m["AV"]] * _V2_AC[m["AC"]] * _V2_AU[m["Au"]]

    def base_from(impact: float) -> float:
        f = 0.0 if impact == 0 else 1.176
        return _round1(((0.6 * impact) + (0.4 * expl) - 1.5) * f)

    c, i, a = _V2_CIA[m["C"]], _V2_CIA[m["I"]], _V2_CIA[m["A"]]
    base = base_from(10.41 * (1 - (1 - c) * (1 - i) * (1 - a)))
    t = (_V2_E[m.get("E", "NOT_DEFINED")] * _V2_RL[m.get("RL", "NOT_DEFINED")]
         * _V2_RC[m.get("RC", "NOT_DEFINED")])
    temporal = _round1(base * t)
    adj_impact = min(
        10.0,
        10.41 * (1 - (1 - c * _V2_REQ[m.get("CR", "NOT_DEFINED")])
                 * (1 - i * _V2_REQ[m.get("IR", "NOT_DEFINED")])
                 * (1 - a * _V2_REQ[m.get("AR", "NOT_DEFINED")])),
    )
    adj_temporal = _round1(base_from(adj_impact) * t)
    cdp = _V2_CDP[m.get("CDP", "NOT_DEFINED")]
    td = _V2_TD[m.get("TD", "NOT_DEFINED")]
    env = _round1((adj_temporal + (10 - adj_temporal) * cdp) * td)
    return {"baseScore": base, "temporalScore": temporal, "environmentalScore": env}
