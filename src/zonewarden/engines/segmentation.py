"""Segmentation check: rules over the zone and conduit model (IEC 62443-3-2 ZCR 3, 3-3 FR5).

Each rule is a small function registered in :data:`RULES` with a stable id (``ZW001``...), a
severity, a title and its documentation (also published in ``docs/checks.md`` and as SARIF rule
help). :func:`run_check` runs every enabled rule once over a precomputed view of the site (zone
index, adjacency lists, zones holding a jump host) so the whole check is linear in the size of
the site: no per-asset graph work, no path enumeration.

The engine is pure: no I/O, no clock. ``today`` decides which waivers have expired and which
assets are past their end of support.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum

from zonewarden.domain.levels import FR, SLTarget
from zonewarden.domain.site import (
    CONTROL_KINDS,
    Asset,
    AssetFacts,
    AssetType,
    Conduit,
    Flow,
    Protection,
    SiteDocument,
    SupportStatus,
    Waiver,
    Zone,
    ZoneKind,
)
from zonewarden.engines.paths import opens_from, require_conduit_zones, zone_adjacency
from zonewarden.errors import InputError, Problem

# --------------------------------------------------------------------------------------------
# Results


class Severity(StrEnum):
    """How bad a finding is. Ordered: ``Severity.CRITICAL > Severity.HIGH > ... > INFO``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``"High"`` -> ``Severity.HIGH``; an :class:`InputError` listing the choices otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in sorted(cls, reverse=True))
            raise InputError(f"unknown severity {text!r}: choose one of {choices}") from None

    # StrEnum would compare alphabetically ("high" < "low"); severities compare by rank.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class ObjectKind(StrEnum):
    """What an id in :attr:`Finding.objects` refers to (ids are unique per section only)."""

    ZONE = "zone"
    CONDUIT = "conduit"
    ASSET = "asset"
    OBJECT = "object"
    """An id that is not (or no longer) in the site, e.g. in an expired waiver."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with the segmentation model."""

    rule: str
    """Stable rule id, ``ZW001``..."""
    severity: Severity
    title: str
    """The rule's short title."""
    message: str
    """Plain-language description naming the zones, conduits and assets involved."""
    objects: tuple[str, ...]
    """Ids involved, the primary object first; waivers match against these."""
    fix: str
    """What to do about it."""
    kinds: tuple[ObjectKind, ...] = ()
    """Kind of each id in ``objects`` (same length), for locations in SARIF and diagrams."""

    def __post_init__(self) -> None:
        if self.kinds and len(self.kinds) != len(self.objects):
            raise ValueError("Finding.kinds must have one entry per object")

    @property
    def refs(self) -> tuple[tuple[ObjectKind, str], ...]:
        kinds = self.kinds or (ObjectKind.OBJECT,) * len(self.objects)
        return tuple(zip(kinds, self.objects, strict=True))

    def sort_key(self) -> tuple[int, str, tuple[str, ...], str]:
        return (-self.severity.rank, self.rule, self.objects, self.message)

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "objects": [{"kind": k.value, "id": i} for k, i in self.refs],
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class WaivedFinding:
    """A finding accepted by a valid waiver: kept in the report, not counted against the site."""

    finding: Finding
    waiver: Waiver

    def to_dict(self) -> dict[str, object]:
        return {
            **self.finding.to_dict(),
            "waiver": self.waiver.model_dump(mode="json"),
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Everything :func:`run_check` decided, sorted."""

    findings: tuple[Finding, ...]
    """Open findings: severity (highest first), then rule, then objects."""
    waived: tuple[WaivedFinding, ...] = ()
    """Findings covered by a waiver that has not expired."""
    expired_waivers: tuple[Waiver, ...] = ()
    """Waivers past their expiry date: they cover nothing and are reported by ZW014."""
    unused_waivers: tuple[Waiver, ...] = ()
    """Valid waivers that matched no finding (stale: the problem was fixed or ids changed)."""
    pending_waivers: tuple[Waiver, ...] = ()
    """Waivers recorded without an approval yet: they cover nothing until signed."""
    disabled_rules: tuple[str, ...] = ()
    """Rule ids switched off in the site's check settings (sorted)."""
    problems: tuple[Problem, ...] = ()
    """Mistakes in the check settings (unknown rule ids, waivers naming unknown objects)."""
    rules_run: tuple[str, ...] = ()

    def counts(self) -> dict[Severity, int]:
        """Open findings per severity, every severity present, highest first."""
        out = {s: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def at_or_above(self, threshold: Severity) -> tuple[Finding, ...]:
        """Open findings of ``threshold`` severity or worse (for ``--fail-on``)."""
        return tuple(f for f in self.findings if f.severity >= threshold)

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": {s.value: n for s, n in self.counts().items()},
            "findings": [f.to_dict() for f in self.findings],
            "waived": [w.to_dict() for w in self.waived],
            "expired_waivers": [w.model_dump(mode="json") for w in self.expired_waivers],
            "unused_waivers": [w.model_dump(mode="json") for w in self.unused_waivers],
            "pending_waivers": [w.model_dump(mode="json") for w in self.pending_waivers],
            "disabled_rules": list(self.disabled_rules),
            "rules_run": list(self.rules_run),
            "problems": [{"path": p.pointer, "message": p.message} for p in self.problems],
        }


# --------------------------------------------------------------------------------------------
# The rule table


@dataclass(frozen=True, slots=True)
class _Hit:
    """What a rule function yields; the engine turns it into a :class:`Finding`."""

    message: str
    refs: tuple[tuple[ObjectKind, str], ...]
    fix: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered check rule and its documentation."""

    id: str
    severity: Severity
    title: str
    name: str
    """CamelCase name for SARIF (``reportingDescriptor.name``)."""
    finds: str
    """What the rule finds."""
    why: str
    """Why it matters, in IEC 62443 terms."""
    fix: str
    """How to fix it (the default :attr:`Finding.fix`)."""
    check: Callable[[_Site], Iterable[_Hit]] = field(repr=False, compare=False)

    @property
    def help_text(self) -> str:
        return (
            f"{self.finds}\n\nWhy it matters: {self.why}\n\nHow to fix: {self.fix}\n\n"
            f"To accept it for a while, add a waiver under checks.waivers with rule {self.id}, "
            "the objects it covers, a justification, the approver and an expiry date."
        )


RULES: dict[str, Rule] = {}
"""Every rule by id, in id order."""


def _rule(
    id: str, severity: Severity, title: str, name: str, *, finds: str, why: str, fix: str
) -> Callable[[Callable[[_Site], Iterable[_Hit]]], Callable[[_Site], Iterable[_Hit]]]:
    def register(fn: Callable[[_Site], Iterable[_Hit]]) -> Callable[[_Site], Iterable[_Hit]]:
        if id in RULES:
            raise RuntimeError(f"rule id {id} registered twice")
        RULES[id] = Rule(id, severity, title, name, finds, why, fix, fn)
        return fn

    return register


# --------------------------------------------------------------------------------------------
# Precomputed view of the site, built once per check


INSECURE_ALWAYS = frozenset(
    {"telnet", "ftp", "tftp", "http", "smbv1", "smb1", "snmpv1", "snmpv2", "snmpv2c", "rlogin", "rsh", "rexec"}
)
"""Clear-text protocols with no usable authentication: insecure whatever the flow says."""

INSECURE_UNLESS_AUTHENTICATED = frozenset(
    {
        "vnc",
        "snmp",
        "modbus",
        "modbus-tcp",
        "dnp3",
        "s7comm",
        "ethernet-ip",
        "enip",
        "cip",
        "profinet",
        "bacnet",
        "iec-104",
        "iec-60870-5-104",
        "opc-da",
        "dcom",
    }
)
"""Protocols that are open by default but have an authenticated form (VNC with a password,
Modbus/TCP Security, DNP3 Secure Authentication, S7comm-plus, CIP Security, SNMPv3):
insecure unless the flow says ``authenticated: true``."""

DEFAULT_INSECURE_PROTOCOLS = INSECURE_ALWAYS | INSECURE_UNLESS_AUTHENTICATED

REMOTE_ACCESS_PROTOCOLS = frozenset(
    {"rdp", "vnc", "ssh", "teamviewer", "anydesk", "ica", "citrix", "x11", "winrm", "telnet", "rlogin"}
)
"""Interactive remote-control protocols: treated as remote access when they come from
external, enterprise or remote-access zones even if the flow is not flagged."""

_REMOTE_ORIGINS = frozenset({ZoneKind.EXTERNAL, ZoneKind.ENTERPRISE, ZoneKind.REMOTE_ACCESS})
_JUMP_HOST_KINDS = frozenset({ZoneKind.DMZ, ZoneKind.REMOTE_ACCESS})
_SAFETY_NEIGHBOUR_KINDS = frozenset({ZoneKind.CONTROL, ZoneKind.FIELD, ZoneKind.SAFETY})
_NON_OT = frozenset({ZoneKind.EXTERNAL, ZoneKind.ENTERPRISE, ZoneKind.REMOTE_ACCESS, ZoneKind.DMZ})


class _Site:
    """The document plus the indexes every rule shares."""

    def __init__(
        self, doc: SiteDocument, today: dt.date, assets: Sequence[Asset | AssetFacts], asset_ids: AbstractSet[str]
    ) -> None:
        self.doc = doc
        self.today = today
        self.assets = assets
        self.asset_ids = asset_ids
        self.zones: dict[str, Zone] = {z.id: z for z in doc.zones}
        self.adjacency = zone_adjacency(doc)
        self.jump_host_zones = frozenset(
            a.zone for a in assets if a.type is AssetType.JUMP_HOST and a.zone is not None
        )
        self.conduit_ids = frozenset(c.id for c in doc.conduits)
        custom = doc.checks.insecure_protocols
        self.insecure = (
            DEFAULT_INSECURE_PROTOCOLS
            if custom is None
            else frozenset(p.strip().lower() for p in custom)
        )

    def brokers(self, zone_id: str) -> bool:
        """True for zones that broker IT-to-OT traffic: a DMZ, or a remote-access zone with a
        jump host (a dedicated remote-access DMZ, as in IEC 62443-3-3 SR 1.13 designs)."""
        kind = self.zones[zone_id].kind
        return kind is ZoneKind.DMZ or (
            kind is ZoneKind.REMOTE_ACCESS and zone_id in self.jump_host_zones
        )

    def z(self, zone_id: str) -> str:
        """A zone as people read it: name, kind and id."""
        zone = self.zones.get(zone_id)
        if zone is None:  # an asset in a document loaded with deferred reference checks
            return f"unknown zone {zone_id}"
        return f"{zone.kind.value} zone '{zone.name}' ({zone.id})"

    def c(self, conduit: Conduit) -> str:
        return f"conduit '{conduit.name}' ({conduit.id})" if conduit.name else f"conduit {conduit.id}"


def _conduit_refs(c: Conduit, *zones: str) -> tuple[tuple[ObjectKind, str], ...]:
    return ((ObjectKind.CONDUIT, c.id), *((ObjectKind.ZONE, z) for z in zones))


def _initiations(flow: Flow) -> Iterator[tuple[str, str]]:
    """(initiating zone, responding zone) pairs a flow allows."""
    for side, other in ((flow.source, flow.destination), (flow.destination, flow.source)):
        if opens_from(flow, side):
            yield side, other


# --------------------------------------------------------------------------------------------
# Rules


@_rule(
    "ZW001",
    Severity.CRITICAL,
    "IT zone connected directly to OT",
    "ItConnectedDirectlyToOt",
    finds="A conduit that joins an external or enterprise zone directly to an OT zone "
    "(operations, supervisory, control, field or safety), with no DMZ zone in between.",
    why="IEC 62443-3-2 expects zones of different risk to be separated, and the reference "
    "architectures put an IT/OT DMZ (Purdue level 3.5) between business and plant networks so "
    "that no session crosses from IT into OT in one step (FR5 restricted data flow, SR 5.1 "
    "network segmentation, SR 5.2 zone boundary protection).",
    fix="Route the traffic through a DMZ zone: terminate it on a broker, replica or jump host "
    "in the DMZ and let the OT side connect to the DMZ, then delete the direct conduit.",
)
def _it_direct_to_ot(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        a, b = (s.zones[x] for x in c.zones)
        for it, ot in ((a, b), (b, a)):
            if it.kind.is_it and ot.kind.is_ot:
                yield _Hit(
                    f"{s.c(c)} connects {s.z(it.id)} directly to {s.z(ot.id)} without a DMZ.",
                    _conduit_refs(c, it.id, ot.id),
                )


@_rule(
    "ZW002",
    Severity.HIGH,
    "Control zone reachable from IT around the DMZ",
    "ControlReachableAroundDmz",
    finds="A supervisory, control, field or safety zone that can be reached from an external or "
    "enterprise zone over two or more conduits without entering a DMZ zone or a remote-access "
    "zone that holds a jump host (for example through a remote-access zone without a jump "
    "host, or an operations zone that is itself wired to IT). One finding per control zone, "
    "with a shortest such path as the example.",
    why="A DMZ only protects what cannot be reached around it. IEC 62443-3-2 zone boundaries "
    "and SR 5.1/5.2 are defeated by any chain of conduits that bypasses the IT/OT DMZ.",
    fix="Break the chain: move the link that bypasses the DMZ so that it ends in a DMZ zone, "
    "or remove it. The example path names every conduit involved.",
)
def _control_reachable_around_dmz(s: _Site) -> Iterator[_Hit]:
    # One multi-source BFS from every IT zone, never entering a DMZ: O(zones + conduits).
    # Sources and neighbours are visited in sorted order, so the example path is stable.
    starts = sorted(z.id for z in s.doc.zones if z.kind.is_it)
    prev: dict[str, tuple[str, str] | None] = dict.fromkeys(starts)
    depth = dict.fromkeys(starts, 0)
    queue = deque(starts)
    while queue:
        zid = queue.popleft()
        for n, cid in s.adjacency[zid]:
            if n in prev or s.brokers(n):
                continue
            prev[n] = (zid, cid)
            depth[n] = depth[zid] + 1
            queue.append(n)
    for zid in sorted(prev):
        if depth[zid] < 2 or s.zones[zid].kind not in CONTROL_KINDS:
            continue  # depth 1 is a direct conduit: ZW001 reports it
        zones, conduits = [zid], []
        step = prev[zid]
        while step is not None:
            zones.append(step[0])
            conduits.append(step[1])
            step = prev[step[0]]
        zones.reverse()
        conduits.reverse()
        route = " -> ".join(zones)
        yield _Hit(
            f"{s.z(zid)} can be reached from {s.z(zones[0])} in {len(conduits)} hops without "
            f"passing a DMZ: {route} (conduits {', '.join(conduits)}).",
            ((ObjectKind.ZONE, zid), (ObjectKind.ZONE, zones[0]))
            + tuple((ObjectKind.CONDUIT, c) for c in conduits),
        )


@_rule(
    "ZW003",
    Severity.HIGH,
    "Connection into OT opened from a less trusted zone",
    "InboundConnectionIntoOt",
    finds="A flow whose connection is opened by a zone outside OT (external, enterprise, "
    "remote-access or DMZ) towards a more trusted OT zone, taking the flow's initiator into "
    "account (source, destination or both). Connections inside OT (a SCADA server polling "
    "controllers) are the normal direction of control and are not reported; remote sessions "
    "that start on a jump host in a DMZ or remote-access zone are judged by ZW004 instead.",
    why="IEC 62443-3-3 SR 5.1/5.2 and common OT practice allow data to leave OT by "
    "connections OT opens (push to a DMZ replica), and deny connections opened from less "
    "trusted zones: an inbound connection is the path an attacker in IT would use.",
    fix="Reverse the direction (let the OT side push or the DMZ side pull from a replica), or "
    "broker the access through a jump host in a DMZ or remote-access zone.",
)
def _inbound_into_ot(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        pairs: dict[tuple[str, str], set[str]] = {}
        for f in c.flows:
            for init, resp in _initiations(f):
                zi, zr = s.zones[init], s.zones[resp]
                if zi.kind not in _NON_OT or not zr.kind.is_ot or zi.kind.trust_rank >= zr.kind.trust_rank:
                    continue
                if _is_remote(f, zi) and init in s.jump_host_zones and zi.kind in _JUMP_HOST_KINDS:
                    continue
                pairs.setdefault((init, resp), set()).add(f.protocol)
        for (init, resp), protocols in sorted(pairs.items()):
            yield _Hit(
                f"{s.c(c)} lets {s.z(init)} open connections into the more trusted "
                f"{s.z(resp)} ({', '.join(sorted(protocols))}).",
                _conduit_refs(c, init, resp),
            )


def _is_remote(flow: Flow, initiator: Zone) -> bool:
    return flow.remote_access or (
        flow.protocol in REMOTE_ACCESS_PROTOCOLS and initiator.kind in _REMOTE_ORIGINS
    )


@_rule(
    "ZW004",
    Severity.CRITICAL,
    "Remote access into OT without a jump host",
    "RemoteAccessWithoutJumpHost",
    finds="An interactive remote or vendor session into an OT zone (a flow marked "
    "remote_access, or RDP, VNC, SSH, TeamViewer and similar opened from an external, "
    "enterprise or remote-access zone) that does not start from a DMZ or remote-access zone "
    "holding a jump host (an asset of type jump-host).",
    why="IEC 62443-3-3 SR 1.13 (access via untrusted networks) and SR 2.6 (remote session "
    "control) call for remote sessions to be brokered, authenticated and supervised at the "
    "boundary; 62443-2-4 SP.07 asks the same of service providers. A jump host is where that "
    "brokering, MFA and session recording happen.",
    fix="Terminate remote sessions on a jump host in a DMZ or remote-access zone (add it as an "
    "asset of type jump-host) and allow only the jump host's zone to open sessions into OT.",
)
def _remote_without_jump_host(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        pairs: dict[tuple[str, str], set[str]] = {}
        for f in c.flows:
            for init, resp in _initiations(f):
                zi, zr = s.zones[init], s.zones[resp]
                if not zr.kind.is_ot or not _is_remote(f, zi):
                    continue
                if zi.kind in _JUMP_HOST_KINDS and init in s.jump_host_zones:
                    continue
                pairs.setdefault((init, resp), set()).add(f.protocol)
        for (init, resp), protocols in sorted(pairs.items()):
            zi = s.zones[init]
            reason = (
                f"{s.z(init)} has no asset of type jump-host"
                if zi.kind in _JUMP_HOST_KINDS
                else f"it starts in {s.z(init)}, not in a DMZ or remote-access zone"
            )
            yield _Hit(
                f"{s.c(c)} carries remote access ({', '.join(sorted(protocols))}) into "
                f"{s.z(resp)} that does not terminate on a jump host: {reason}.",
                _conduit_refs(c, init, resp),
            )


@_rule(
    "ZW005",
    Severity.HIGH,
    "Safety zone connected to more than its own control system",
    "SafetyZoneNeighbours",
    finds="A conduit from a safety zone to a zone that is not one of its allowed neighbours. "
    "Allowed neighbours are control, field and other safety zones; when the safety zone has a "
    "parent zone, the neighbour must also be that parent, a child of that parent (a sibling) or "
    "a child of the safety zone itself, so a safety system is tied to the process unit it "
    "protects and not to another unit's control system.",
    why="IEC 62443-3-2 asks that safety instrumented systems sit in their own zone(s), and IEC "
    "61511 asks that the SIS stays independent of everything but the basic process control "
    "system it works with. Every extra neighbour is a way to reach the SIS.",
    fix="Connect the safety zone only to the control zone of the unit it protects (set "
    "'parent' to make the relation explicit) and route any other data (historian, "
    "engineering) through that control zone or a dedicated, one-way conduit.",
)
def _safety_neighbours(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        for safe, other in (c.zones, c.zones[::-1]):
            sz, oz = s.zones[safe], s.zones[other]
            if sz.kind is not ZoneKind.SAFETY:
                continue
            if oz.kind not in _SAFETY_NEIGHBOUR_KINDS:
                why = f"a {oz.kind.value} zone is never an allowed neighbour of a safety zone"
            elif sz.parent is not None and other != sz.parent and oz.parent not in (sz.parent, sz.id):
                why = f"it is outside the safety zone's unit (parent {sz.parent})"
            else:
                continue
            yield _Hit(
                f"{s.c(c)} connects {s.z(safe)} to {s.z(other)}: {why}.",
                _conduit_refs(c, safe, other),
            )


def _sl_shortfall(conduit: SLTarget, zone: SLTarget) -> list[tuple[FR, int, int]]:
    return [(fr, cl, zl) for (fr, cl), (_, zl) in zip(conduit.items(), zone.items(), strict=True) if cl < zl]


@_rule(
    "ZW006",
    Severity.MEDIUM,
    "Conduit SL-T below a zone's SL-T",
    "ConduitTargetBelowZone",
    finds="A conduit whose target security level is lower, on one or more foundational "
    "requirements, than the target of a zone it connects. The finding lists the FRs.",
    why="IEC 62443-3-2 (ZCR 5) sets an SL-T for zones and conduits alike; a conduit is part of "
    "the boundary of both zones it joins, so a weaker conduit lowers what the zone can achieve.",
    fix="Raise the conduit's SL-T on the listed FRs to at least the zone's (and plan the "
    "countermeasures), or document why the zone's SL-T is too high.",
)
def _conduit_sl_below_zone(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        if c.sl_target is None:
            continue  # ZW013 reports the missing SL-T
        for zid in sorted(set(c.zones)):
            zt = s.zones[zid].sl_target
            if zt is None:
                continue  # ZW012 reports the missing SL-T
            short = _sl_shortfall(c.sl_target, zt)
            if short:
                detail = ", ".join(f"{fr.value} {cl} < {zl}" for fr, cl, zl in short)
                yield _Hit(
                    f"{s.c(c)} has a lower SL-T than {s.z(zid)} on {detail}.",
                    _conduit_refs(c, zid),
                    fix=f"Raise the SL-T of {c.id} on {', '.join(fr.value for fr, _, _ in short)} "
                    f"to at least that of zone {zid}.",
                )


@_rule(
    "ZW007",
    Severity.HIGH,
    "Insecure protocol crosses a zone boundary",
    "InsecureProtocolAcrossBoundary",
    finds="A flow over a conduit that uses a clear-text or unauthenticated protocol: telnet, "
    "FTP, TFTP, HTTP, SMBv1, SNMPv1/v2c, rlogin/rsh always; VNC, SNMP, Modbus/TCP, DNP3, "
    "S7comm, EtherNet/IP (CIP), PROFINET, BACnet, IEC 60870-5-104 and OPC DA unless the flow "
    "is marked authenticated; and any flow marked authenticated: false or encrypted: false, "
    "whatever its protocol. checks.insecure_protocols replaces the list for a site.",
    why="IEC 62443-3-3 SR 1.2 (identification and authentication of software processes and "
    "devices), SR 3.1 (communication integrity) and SR 4.1 (information confidentiality) fail "
    "for protocols that carry commands or credentials in the clear; at a zone boundary the "
    "traffic is exposed to every zone upstream.",
    fix="Use the secure form (SSH, SFTP, HTTPS, SMBv3, SNMPv3, Modbus/TCP Security, DNP3-SA, "
    "CIP Security, OPC UA with signing) and set authenticated: true on the flow, or keep the "
    "protocol inside its zone and broker it through a gateway.",
)
def _insecure_protocols(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        bad: dict[tuple[str, str], dict[str, set[str]]] = {}
        for f in c.flows:
            weakness = _flow_weakness(s, f)
            if weakness is not None:
                bad.setdefault((f.source, f.destination), {}).setdefault(weakness, set()).add(f.protocol)
        for (src, dst), by_weakness in sorted(bad.items()):
            (first, protocols), *rest = sorted(by_weakness.items(), key=lambda kv: _WEAKNESS_ORDER.index(kv[0]))
            more = "".join(f", and {', '.join(sorted(p))} {w}" for w, p in rest)
            yield _Hit(
                f"{s.c(c)} carries {', '.join(sorted(protocols))} from {s.z(src)} to {s.z(dst)} {first}{more}.",
                _conduit_refs(c, src, dst),
            )


_WITHOUT_AUTHENTICATION = "without authentication"
_WITHOUT_ENCRYPTION = "without encryption"
_WEAKNESS_ORDER = (_WITHOUT_AUTHENTICATION, _WITHOUT_ENCRYPTION)


def _flow_weakness(s: _Site, f: Flow) -> str | None:
    """Why a flow is insecure, or None. What the flow declares wins over the protocol list: a
    flow marked ``authenticated: false`` or ``encrypted: false`` is insecure whatever its
    protocol is called; the list is the default for flows that say nothing."""
    if f.authenticated is False:
        return _WITHOUT_AUTHENTICATION
    if f.protocol in s.insecure and not (f.authenticated is True and f.protocol in INSECURE_UNLESS_AUTHENTICATED):
        return _WITHOUT_AUTHENTICATION
    if f.encrypted is False:
        return _WITHOUT_ENCRYPTION
    return None


@_rule(
    "ZW008",
    Severity.HIGH,
    "Any-to-any flow",
    "AnyToAnyFlow",
    finds="A flow that allows any protocol or any port across a conduit.",
    why="IEC 62443-3-3 SR 5.1 and SR 5.2 (deny by default, allow by exception) need each "
    "allowed communication to be named; an 'any' rule makes the conduit a flat network.",
    fix="Replace the flow by the specific protocols and ports that are needed, each with its "
    "purpose.",
)
def _any_flows(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        pairs = sorted({(f.source, f.destination) for f in c.flows if f.is_any})
        for src, dst in pairs:
            yield _Hit(
                f"{s.c(c)} allows any protocol or port from {s.z(src)} to {s.z(dst)}.",
                _conduit_refs(c, src, dst),
            )


@_rule(
    "ZW009",
    Severity.HIGH,
    "No firewall or data diode between trust levels",
    "BoundaryWithoutFilter",
    finds="A conduit between zones of different trust (by zone kind) that lists neither a "
    "firewall nor a data diode among its protections.",
    why="IEC 62443-3-3 SR 5.2 (zone boundary protection) needs a device that monitors and "
    "controls communication at every boundary between zones of different security needs.",
    fix="Add a firewall (or a data diode for one-way flows) on the conduit and record it under "
    "protections.",
)
def _boundary_without_filter(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        a, b = (s.zones[x] for x in c.zones)
        if a.kind.trust_rank == b.kind.trust_rank:
            continue
        if c.has(Protection.FIREWALL) or c.has(Protection.DATA_DIODE):
            continue
        yield _Hit(
            f"{s.c(c)} joins {s.z(a.id)} and {s.z(b.id)}, which differ in trust, "
            "without a firewall or data diode.",
            _conduit_refs(c, a.id, b.id),
        )


@_rule(
    "ZW010",
    Severity.MEDIUM,
    "Asset without a zone",
    "AssetWithoutZone",
    finds="An asset whose zone is not set.",
    why="IEC 62443-3-2 ZCR 3.1 asks that every asset of the system under consideration is "
    "assigned to a zone or conduit; an unzoned asset has no SL-T and no boundary.",
    fix="Set the asset's zone.",
)
def _asset_without_zone(s: _Site) -> Iterator[_Hit]:
    for a in s.assets:
        if a.zone is None:
            # Asset names are sensitive: the message names the id and type only.
            yield _Hit(
                f"asset {a.id} ({a.type.value}) is not assigned to any zone.",
                ((ObjectKind.ASSET, a.id),),
            )


@_rule(
    "ZW011",
    Severity.MEDIUM,
    "Asset past end of support",
    "AssetEndOfSupport",
    finds="An asset whose end_of_support date is before the check date, or whose "
    "vendor_support is end-of-support.",
    why="Unsupported products get no security patches (IEC 62443-2-3 patch management, 2-1 "
    "asset management); the risk must be handled by compensating controls or replacement.",
    fix="Plan a replacement or an upgrade, and until then record compensating controls "
    "(tighter conduit rules, monitoring) and a waiver with an expiry.",
)
def _asset_end_of_support(s: _Site) -> Iterator[_Hit]:
    for a in s.assets:
        past = a.end_of_support is not None and a.end_of_support < s.today
        if not past and a.vendor_support is not SupportStatus.END_OF_SUPPORT:
            continue
        when = f"on {a.end_of_support.isoformat()}" if past and a.end_of_support else "(vendor status)"
        where = f" in {s.z(a.zone)}" if a.zone is not None else ""
        refs: tuple[tuple[ObjectKind, str], ...] = ((ObjectKind.ASSET, a.id),)
        if a.zone is not None:
            refs += ((ObjectKind.ZONE, a.zone),)
        yield _Hit(f"asset {a.id} ({a.type.value}){where} reached end of support {when}.", refs)


@_rule(
    "ZW012",
    Severity.INFO,
    "Zone without SL-T",
    "ZoneWithoutTarget",
    finds="A zone with no target security level.",
    why="IEC 62443-3-2 ZCR 5 assigns an SL-T to every zone; without it, the conduit check "
    "(ZW006) and the gap assessment cannot decide anything for the zone.",
    fix="Set sl_target on the zone (one number or FR1-FR7), from the risk assessment.",
)
def _zone_without_slt(s: _Site) -> Iterator[_Hit]:
    for z in s.doc.zones:
        if z.sl_target is None:
            yield _Hit(f"{s.z(z.id)} has no SL-T.", ((ObjectKind.ZONE, z.id),))


@_rule(
    "ZW013",
    Severity.INFO,
    "Conduit without SL-T",
    "ConduitWithoutTarget",
    finds="A conduit with no target security level.",
    why="IEC 62443-3-2 ZCR 5 assigns an SL-T to conduits as well as zones; without it, ZW006 "
    "cannot compare the conduit with its zones and paths report its level as unknown.",
    fix="Set sl_target on the conduit, at least as high as the zones it joins.",
)
def _conduit_without_slt(s: _Site) -> Iterator[_Hit]:
    for c in s.doc.conduits:
        if c.sl_target is None:
            yield _Hit(f"{s.c(c)} has no SL-T.", _conduit_refs(c))


@_rule(
    "ZW014",
    Severity.LOW,
    "Waiver expired",
    "WaiverExpired",
    finds="A waiver whose expiry date is before the check date. It no longer hides anything: "
    "the findings it covered are reported again.",
    why="IEC 62443-2-1 expects exceptions to security requirements to be approved, time-limited "
    "and reviewed; an expired acceptance must be renewed or the problem fixed.",
    fix="Fix the finding, or renew the waiver with a new justification, approval and expiry.",
)
def _expired_waivers(s: _Site) -> Iterator[_Hit]:
    for w in s.doc.checks.waivers:
        if w.expires < s.today and not w.pending:
            covers = ", ".join(w.objects) if w.objects else "every object"
            yield _Hit(
                f"the waiver of {w.rule} for {covers}, approved by {w.approved_by}, expired on "
                f"{w.expires.isoformat()}.",
                tuple((_kind_of(s, o), o) for o in w.objects),
            )


def _kind_of(s: _Site, ident: str) -> ObjectKind:
    if ident in s.zones:
        return ObjectKind.ZONE
    if ident in s.conduit_ids:
        return ObjectKind.CONDUIT
    if ident in s.asset_ids:
        return ObjectKind.ASSET
    return ObjectKind.OBJECT


# --------------------------------------------------------------------------------------------
# The engine


def _settings_problems(doc: SiteDocument, asset_ids: AbstractSet[str]) -> list[Problem]:
    out = []
    for i, rid in enumerate(doc.checks.disabled):
        if rid not in RULES:
            out.append(Problem(f"unknown rule {rid}; known rules: {', '.join(RULES)}", ("checks", "disabled", i)))
    if not doc.checks.waivers:
        return out
    known = {z.id for z in doc.zones} | {c.id for c in doc.conduits} | asset_ids
    for i, w in enumerate(doc.checks.waivers):
        if w.rule not in RULES:
            out.append(Problem(f"unknown rule {w.rule}; known rules: {', '.join(RULES)}", ("checks", "waivers", i, "rule")))
        for j, o in enumerate(w.objects):
            if o not in known:
                out.append(
                    Problem(
                        f"the waiver names {o!r}, which is not a zone, conduit or asset of this site",
                        ("checks", "waivers", i, "objects", j),
                    )
                )
    return out


def _waiver_for(finding: Finding, waivers: Mapping[str, list[Waiver]]) -> Waiver | None:
    # A waiver covers a finding when it names the rule and every object it lists is involved;
    # an empty object list covers the rule everywhere. First matching waiver wins (file order).
    for w in waivers.get(finding.rule, ()):
        if set(w.objects) <= set(finding.objects):
            return w
    return None


@dataclass(frozen=True, slots=True)
class AssetScope:
    """The assets the rules read: unzoned ones, those with an end-of-support date or status,
    and those of the listed types (jump hosts make a zone a broker). Any other asset cannot
    change the report, so a caller holding a large stored site may pass :func:`run_check` only
    the assets this scope covers (a superset is fine), plus the ids waivers name."""

    types: frozenset[AssetType]
    support: frozenset[SupportStatus]

    def covers(self, asset: Asset | AssetFacts) -> bool:
        return (
            asset.zone is None
            or asset.end_of_support is not None
            or asset.vendor_support in self.support
            or asset.type in self.types
        )


ASSET_SCOPE = AssetScope(types=frozenset({AssetType.JUMP_HOST}), support=frozenset({SupportStatus.END_OF_SUPPORT}))
"""What the asset rules (ZW010, ZW011 and the jump-host test of brokering zones) look at.
A rule that reads another asset attribute must widen this scope; a test compares the check
with the scoped assets against the check with all of them."""


def waiver_object_ids(doc: SiteDocument) -> frozenset[str]:
    """Every id a waiver names: the asset ids among them are what ``asset_ids`` must hold."""
    return frozenset(o for w in doc.checks.waivers for o in w.objects)


def run_check(
    doc: SiteDocument,
    *,
    today: dt.date,
    assets: Sequence[Asset | AssetFacts] | None = None,
    asset_ids: AbstractSet[str] | None = None,
) -> CheckReport:
    """Run every enabled rule over ``doc``; pure and deterministic for a given ``today``.

    ``assets`` replaces ``doc.assets`` when given: the check reads only the facts in
    :class:`AssetFacts`, and only of the assets :data:`ASSET_SCOPE` covers, so a caller holding
    a large stored site passes those and a document loaded without its assets. ``asset_ids``
    then names the site's assets among the ids its waivers name (:func:`waiver_object_ids`);
    by default it is the ids of ``assets``."""
    require_conduit_zones(doc)
    if assets is None:
        assets = doc.assets
    if asset_ids is None:
        asset_ids = {a.id for a in assets} if doc.checks.waivers else frozenset()
    site = _Site(doc, today, assets, asset_ids)
    disabled = frozenset(doc.checks.disabled)
    findings: list[Finding] = []
    for rule in RULES.values():
        if rule.id in disabled:
            continue
        for hit in rule.check(site):
            kinds, objects = zip(*hit.refs, strict=True) if hit.refs else ((), ())
            findings.append(
                Finding(rule.id, rule.severity, rule.title, hit.message, objects, hit.fix or rule.fix, kinds)
            )

    active: dict[str, list[Waiver]] = {}
    expired = []
    pending = []
    for w in doc.checks.waivers:
        # A waiver is valid through its expiry date and lapses the day after; one not approved
        # yet covers nothing.
        if w.pending:
            pending.append(w)
        elif w.expires < today:
            expired.append(w)
        else:
            active.setdefault(w.rule, []).append(w)

    open_findings: list[Finding] = []
    waived: list[WaivedFinding] = []
    used: set[int] = set()
    for f in findings:
        match = _waiver_for(f, active) if active else None
        if match is None:
            open_findings.append(f)
        else:
            waived.append(WaivedFinding(f, match))
            used.add(id(match))
    open_findings.sort(key=Finding.sort_key)
    waived.sort(key=lambda wf: wf.finding.sort_key())
    unused = [w for ws in active.values() for w in ws if id(w) not in used and w.rule not in disabled]
    return CheckReport(
        findings=tuple(open_findings),
        waived=tuple(waived),
        expired_waivers=tuple(sorted(expired, key=_waiver_key)),
        unused_waivers=tuple(sorted(unused, key=_waiver_key)),
        pending_waivers=tuple(sorted(pending, key=_waiver_key)),
        disabled_rules=tuple(sorted(disabled)),
        problems=tuple(_settings_problems(doc, site.asset_ids)),
        rules_run=tuple(r for r in RULES if r not in disabled),
    )


def _waiver_key(w: Waiver) -> tuple[str, tuple[str, ...], dt.date]:
    return (w.rule, w.objects, w.expires)


__all__ = [
    "ASSET_SCOPE",
    "DEFAULT_INSECURE_PROTOCOLS",
    "INSECURE_ALWAYS",
    "INSECURE_UNLESS_AUTHENTICATED",
    "REMOTE_ACCESS_PROTOCOLS",
    "RULES",
    "AssetScope",
    "CheckReport",
    "Finding",
    "ObjectKind",
    "Rule",
    "Severity",
    "WaivedFinding",
    "run_check",
    "waiver_object_ids",
]
