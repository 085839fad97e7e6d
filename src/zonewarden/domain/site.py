"""The plant's security model: site, zones, conduits, assets and people (IEC 62443-3-2).

Everything here is frozen and validates its own invariants on creation. References between
objects (a conduit's zones, an asset's zone) are checked for a whole document by
:func:`reference_problems`, which returns every problem at once so a user can fix a file in
one pass.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal, NamedTuple

from pydantic import Field, ValidationInfo, field_serializer, field_validator, model_validator

from zonewarden.domain.common import (
    AssetRef,
    Criticality,
    Id,
    Model,
    PersonRef,
    ShortText,
    Text,
    ZoneId,
    ZoneRef,
    duplicate_id_problems,
    sensitive,
)
from zonewarden.domain.governance import Assessment, ChangeRecord, CriticalityClass
from zonewarden.domain.levels import SLCapability, SLTarget
from zonewarden.domain.patching import (
    BlackoutPeriod,
    Deferral,
    MaintenanceWindow,
    PatchChange,
    PatchPolicy,
    VendorPatch,
    patching_reference_problems,
)
from zonewarden.domain.psirt_suppliers import Supplier
from zonewarden.domain.requirements import (
    DEFAULT_SL_SCALE,
    CapabilityDeclaration,
    CompensatingControl,
    RequirementException,
    RequirementStatus,
    SLScale,
    requirement_reference_problems,
)
from zonewarden.domain.risk import RiskMethod, RiskScenario, risk_reference_problems
from zonewarden.errors import Problem

FORMAT_VERSION = 1


class ZoneKind(StrEnum):
    """What a zone is for. Order here is the trust order used by the checks (low to high)."""

    EXTERNAL = "external"
    ENTERPRISE = "enterprise"
    REMOTE_ACCESS = "remote-access"
    DMZ = "dmz"
    OPERATIONS = "operations"
    SUPERVISORY = "supervisory"
    CONTROL = "control"
    FIELD = "field"
    SAFETY = "safety"

    @property
    def trust_rank(self) -> int:
        """Higher means more critical / more trusted; used for 'lower trust initiates' checks."""
        return _TRUST_RANK[self]

    @property
    def is_ot(self) -> bool:
        return self in OT_KINDS

    @property
    def is_it(self) -> bool:
        return self in (ZoneKind.EXTERNAL, ZoneKind.ENTERPRISE)


_TRUST_RANK = {
    ZoneKind.EXTERNAL: 0,
    ZoneKind.ENTERPRISE: 1,
    ZoneKind.REMOTE_ACCESS: 2,
    ZoneKind.DMZ: 3,
    ZoneKind.OPERATIONS: 4,
    ZoneKind.SUPERVISORY: 5,
    ZoneKind.CONTROL: 6,
    ZoneKind.FIELD: 6,
    ZoneKind.SAFETY: 7,
}
OT_KINDS = frozenset(
    {ZoneKind.OPERATIONS, ZoneKind.SUPERVISORY, ZoneKind.CONTROL, ZoneKind.FIELD, ZoneKind.SAFETY}
)
CONTROL_KINDS = frozenset({ZoneKind.SUPERVISORY, ZoneKind.CONTROL, ZoneKind.FIELD, ZoneKind.SAFETY})

PURDUE_LEVELS = (0.0, 1.0, 2.0, 3.0, 3.5, 4.0, 5.0)


class Role(StrEnum):
    """Roles of people: IEC 62443-2-4 parties and the plant functions that sign things off."""

    ASSET_OWNER = "asset-owner"
    INTEGRATOR = "integrator"
    SUPPLIER = "supplier"
    IT_SECURITY = "it-security"
    OT_ENGINEERING = "ot-engineering"
    OPERATIONS = "operations"
    QUALITY = "quality"
    MANAGEMENT = "management"
    AUDITOR = "auditor"


class Person(Model):
    """Someone who owns, approves, assesses or supplies."""

    id: Id
    name: ShortText
    organisation: ShortText | None = None
    roles: tuple[Role, ...] = Field(default=(), description="What this person may do here.")
    email: str | None = sensitive(default=None, description="Contact address (sensitive).")


class SiteInfo(Model):
    """The plant itself."""

    id: Id
    name: ShortText
    organisation: ShortText | None = None
    location: str | None = sensitive(default=None, description="Street address or city (sensitive).")
    description: Text | None = None
    industry: ShortText | None = Field(default=None, examples=["pharmaceutical"])
    timezone: ShortText | None = Field(
        default=None, examples=["Europe/Zurich"], description="IANA time zone; turns instants into site dates."
    )


class Zone(Model):
    """A group of assets with the same security requirements (IEC 62443-3-2 ZCR 3)."""

    id: Id
    name: ShortText
    kind: ZoneKind
    purdue_level: float = Field(description="Purdue level 0-5; 3.5 for an IT/OT DMZ.")
    criticality: Criticality = Criticality.MEDIUM
    sl_target: SLTarget | None = Field(
        default=None, description="SL-T: one number for all FRs or a mapping FR1..FR7."
    )
    sl_target_rationale: Text | None = Field(
        default=None, description="Why the SL-T differs from the risk-based proposal (zonewarden slt)."
    )
    owner: PersonRef | None = None
    parent: ZoneRef | None = Field(default=None, description="Enclosing zone, for sub-zones.")
    description: Text | None = None
    notes: Text | None = sensitive(default=None, description="Internal notes (sensitive).")
    shareable: tuple[str, ...] = Field(
        default=(), description="Sensitive fields the owner allows in customer-facing output."
    )

    @field_validator("purdue_level")
    @classmethod
    def _purdue(cls, v: float) -> float:
        if v not in PURDUE_LEVELS:
            raise ValueError(f"Purdue level must be one of 0, 1, 2, 3, 3.5, 4, 5 (got {v:g})")
        return v

    @field_serializer("purdue_level")
    def _purdue_out(self, v: float) -> float | int:
        return int(v) if v == int(v) else v


class Protection(StrEnum):
    """Countermeasures a conduit provides (IEC 62443-3-2 conduit characteristics)."""

    FIREWALL = "firewall"
    DATA_DIODE = "data-diode"
    VPN = "vpn"
    JUMP_HOST = "jump-host"
    ENCRYPTION = "encryption"
    AUTHENTICATION = "authentication"
    MFA = "mfa"
    DEEP_PACKET_INSPECTION = "deep-packet-inspection"
    MONITORING = "monitoring"
    SESSION_RECORDING = "session-recording"


class Initiator(StrEnum):
    """Which side opens the connection of a flow."""

    SOURCE = "source"
    DESTINATION = "destination"
    BOTH = "both"


PortSpec = Annotated[str, Field(pattern=r"^(any|\d{1,5}(-\d{1,5})?)$")]


class Flow(Model):
    """An allowed communication across a conduit."""

    source: ZoneRef
    destination: ZoneRef
    protocol: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9+._/\-]*$")] = Field(
        description="Lower-case protocol name, e.g. https, opc-ua, modbus-tcp, s7comm, rdp, any."
    )
    ports: tuple[PortSpec, ...] = Field(default=(), description="Ports or ranges as strings; 'any' for all.")
    initiator: Initiator = Initiator.SOURCE
    purpose: Text | None = None
    authenticated: bool | None = Field(
        default=None, description="Whether the protocol session is authenticated (None: unknown)."
    )
    encrypted: bool | None = None
    remote_access: bool = Field(
        default=False, description="Interactive remote or vendor access (RDP, VNC, SSH, vendor VPN...)."
    )

    @field_validator("protocol", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("ports", mode="before")
    @classmethod
    def _ports_as_text(cls, v: object) -> object:
        # YAML gives 502 as a number; a port list is kept as text so ranges ("1000-2000") fit.
        if isinstance(v, (list, tuple)):
            return tuple(str(p) if isinstance(p, int) and not isinstance(p, bool) else p for p in v)
        return v

    @field_validator("ports")
    @classmethod
    def _ports(cls, ports: tuple[str, ...]) -> tuple[str, ...]:
        for p in ports:
            if p == "any":
                continue
            lo, _, hi = p.partition("-")
            a, b = int(lo), int(hi or lo)
            if not (0 < a <= 65535 and 0 < b <= 65535 and a <= b):
                raise ValueError(f"port {p!r} is outside 1-65535 or its range is reversed")
        return ports

    @property
    def is_any(self) -> bool:
        """True when the flow allows any protocol or any port."""
        return self.protocol == "any" or "any" in self.ports


class Conduit(Model):
    """The channel between two zones: its flows and its protections."""

    id: Id
    name: ShortText | None = None
    zones: tuple[ZoneRef, ZoneRef] = Field(description="The two zones the conduit connects.")
    sl_target: SLTarget | None = None
    protections: tuple[Protection, ...] = ()
    flows: tuple[Flow, ...] = ()
    owner: PersonRef | None = None
    description: Text | None = None
    notes: Text | None = sensitive(default=None)
    shareable: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _endpoints(self) -> Conduit:
        a, b = self.zones
        if a == b:
            raise ValueError(f"a conduit connects two different zones; both ends are {a!r}")
        for i, flow in enumerate(self.flows):
            ends = {flow.source, flow.destination}
            if not ends <= set(self.zones):
                raise ValueError(
                    f"flows[{i}] goes {flow.source} -> {flow.destination}, but the conduit connects {a} and {b}"
                )
            if flow.source == flow.destination:
                raise ValueError(f"flows[{i}] has the same source and destination zone {flow.source!r}")
        return self

    def has(self, protection: Protection) -> bool:
        return protection in self.protections


class NeedsExactText(Exception):  # noqa: N818 - a signal, not an error the user sees
    """Raised while validating data read by a fast YAML parser when a text field got a plain
    number whose exact spelling was lost; the reader then parses the file again exactly.
    Deliberately not a ValueError, so pydantic lets it through."""


class AssetType(StrEnum):
    """Documented vocabulary of asset types (see docs/site-file.md)."""

    PLC = "plc"
    SAFETY_CONTROLLER = "safety-controller"
    DCS_CONTROLLER = "dcs-controller"
    RTU = "rtu"
    IO_MODULE = "io-module"
    DRIVE = "drive"
    HMI = "hmi"
    SCADA_SERVER = "scada-server"
    HISTORIAN = "historian"
    ENGINEERING_WORKSTATION = "engineering-workstation"
    OPERATOR_WORKSTATION = "operator-workstation"
    MES = "mes"
    BATCH_SERVER = "batch-server"
    OPC_SERVER = "opc-server"
    APPLICATION_SERVER = "application-server"
    DATABASE_SERVER = "database-server"
    LIMS = "lims"
    CDS = "chromatography-data-system"
    LAB_INSTRUMENT = "lab-instrument"
    SERIALIZATION = "serialization-system"
    VISION_SYSTEM = "vision-system"
    ROBOT = "robot"
    BMS = "building-management"
    FIREWALL = "firewall"
    DATA_DIODE = "data-diode"
    SWITCH = "switch"
    ROUTER = "router"
    WIRELESS_AP = "wireless-access-point"
    JUMP_HOST = "jump-host"
    REMOTE_ACCESS_GATEWAY = "remote-access-gateway"
    VPN_GATEWAY = "vpn-gateway"
    DOMAIN_CONTROLLER = "domain-controller"
    PATCH_SERVER = "patch-server"
    ANTIVIRUS_SERVER = "antivirus-server"
    BACKUP_SERVER = "backup-server"
    IDS_SENSOR = "ids-sensor"
    FILE_SERVER = "file-server"
    ERP = "erp"
    WORKSTATION = "workstation"
    SERVER = "server"
    IOT_GATEWAY = "iot-gateway"
    OTHER = "other"


DEFAULT_PATCH_TIER: dict[AssetType, int] = {
    # 1: exposed security infrastructure
    AssetType.FIREWALL: 1,
    AssetType.DATA_DIODE: 1,
    AssetType.JUMP_HOST: 1,
    AssetType.REMOTE_ACCESS_GATEWAY: 1,
    AssetType.VPN_GATEWAY: 1,
    AssetType.DOMAIN_CONTROLLER: 1,
    AssetType.PATCH_SERVER: 1,
    AssetType.ANTIVIRUS_SERVER: 1,
    AssetType.ROUTER: 1,
    # 2: OT servers
    AssetType.SCADA_SERVER: 2,
    AssetType.HISTORIAN: 2,
    AssetType.MES: 2,
    AssetType.BATCH_SERVER: 2,
    AssetType.OPC_SERVER: 2,
    AssetType.APPLICATION_SERVER: 2,
    AssetType.DATABASE_SERVER: 2,
    AssetType.LIMS: 2,
    AssetType.CDS: 2,
    AssetType.BACKUP_SERVER: 2,
    AssetType.FILE_SERVER: 2,
    AssetType.SERVER: 2,
    AssetType.ERP: 2,
    AssetType.SERIALIZATION: 2,
    AssetType.IDS_SENSOR: 2,
    AssetType.SWITCH: 2,
    AssetType.WIRELESS_AP: 2,
    AssetType.BMS: 2,
    AssetType.IOT_GATEWAY: 2,
}
"""Patch tier by type when an asset does not set one (3 = line level for everything else)."""


class SupportStatus(StrEnum):
    SUPPORTED = "supported"
    EXTENDED = "extended"
    END_OF_SUPPORT = "end-of-support"
    UNKNOWN = "unknown"


class SafetyImpact(StrEnum):
    """SSVC safety impact (IEC 61508-based scale)."""

    NEGLIGIBLE = "negligible"
    MARGINAL = "marginal"
    CRITICAL = "critical"
    CATASTROPHIC = "catastrophic"


class MissionImpact(StrEnum):
    """SSVC mission impact."""

    DEGRADED = "degraded"
    CRIPPLED = "crippled"
    MEF_FAILURE = "mef-failure"
    MISSION_FAILURE = "mission-failure"


_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:/(?:3[0-2]|[12]?\d))?$")


def _ip(value: str) -> str:
    # Plain IPv4 (the common case) by regex: ipaddress costs ~40 µs a call, a 100k-asset
    # import spends seconds in it. Everything else goes to ipaddress for the precise answer.
    if _IPV4.match(value):
        return value
    try:
        ipaddress.ip_interface(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IP address or CIDR") from exc
    return value


class Asset(Model):
    """A device or system in the plant."""

    id: Id
    name: ShortText = sensitive(description="Asset name; internal unless listed in shareable.")
    type: AssetType
    zone: ZoneRef | None = Field(default=None, description="Zone id; unset is reported by the check.")
    vendor: ShortText | None = None
    product: ShortText | None = None
    model_number: ShortText | None = None
    version: ShortText | None = Field(default=None, description="Firmware or software version as the vendor writes it.")
    cpe: ShortText | None = None
    purl: ShortText | None = None
    os: ShortText | None = Field(default=None, examples=["Windows 7 SP1"])
    criticality: Criticality = Criticality.MEDIUM
    safety_impact: SafetyImpact | None = None
    mission_impact: MissionImpact | None = None
    patch_tier: Literal[1, 2, 3, 4] | None = Field(
        default=None, description="1 security infrastructure, 2 OT server, 3 line level, 4 legacy/vendor-locked."
    )
    validated: bool = Field(default=False, description="GxP/CSV-validated: changes need revalidation.")
    vendor_support: SupportStatus = SupportStatus.UNKNOWN
    end_of_support: dt.date | None = None
    addresses: tuple[str, ...] = sensitive(default=(), description="IP addresses or CIDRs (sensitive).")
    hostnames: tuple[str, ...] = sensitive(default=(), description="Host names (sensitive).")
    serial_number: str | None = sensitive(default=None)
    owner: PersonRef | None = None
    legacy_constraints: tuple[Text, ...] = Field(
        default=(), description="Why the asset cannot follow normal practice (fixed vendor image, ...)."
    )
    capability: SLCapability | None = Field(default=None, description="Stated SL-C of the component.")
    description: Text | None = None
    notes: Text | None = sensitive(default=None)
    tags: tuple[ShortText, ...] = ()
    shareable: tuple[str, ...] = ()

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if info.context and info.context.get("trusted"):
            return values  # read back from the database: checked when it was written
        return tuple(_ip(v) for v in values)

    @field_validator("version", "model_number", "serial_number", mode="before")
    @classmethod
    def _numbers_as_text(cls, v: object, info: ValidationInfo) -> object:
        # YAML reads 2.9 or 1500 as numbers; a version is always text.
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            # A version written as a plain number: its spelling matters (2.10 is not 2.1).
            text = getattr(v, "text", None)
            if text is not None:
                return text
            if info.context and info.context.get("exact_numbers_available"):
                raise NeedsExactText(info.field_name or "")
            return str(v)
        return v

    @property
    def effective_patch_tier(self) -> int:
        if self.patch_tier is not None:
            return self.patch_tier
        return DEFAULT_PATCH_TIER.get(self.type, 3)


class AssetFacts(NamedTuple):
    """What the segmentation check reads of an asset: a projection the storage can produce
    without building the full :class:`Asset` (100k of those cost seconds to validate)."""

    id: str
    type: AssetType
    zone: ZoneId | None
    end_of_support: dt.date | None
    vendor_support: SupportStatus

    @classmethod
    def of(cls, asset: Asset) -> AssetFacts:
        return cls(asset.id, asset.type, asset.zone, asset.end_of_support, asset.vendor_support)


class Waiver(Model):
    """A recorded, approved, time-limited acceptance of one check finding.

    Legacy form: ``approved_by`` typed in the site file (shown as not signed). Signed form: a
    waiver with an ``id`` recorded without an approval (pending: it waives nothing) and approved
    by an electronic signature (``waiver approve``, ``POST .../waivers/{id}/approval``), which
    sets ``approved_by`` and ``approved``."""

    id: Id | None = Field(default=None, description="Needed to record and sign the waiver (`waiver approve ID`).")
    rule: Annotated[str, Field(pattern=r"^ZW\d{3}$")]
    objects: tuple[str, ...] = Field(
        default=(), description="Ids the finding is about; empty waives the rule for every object."
    )
    justification: Text = Field(min_length=10)
    approved_by: PersonRef | None = Field(default=None, description="Who approved it; unset means pending.")
    approved: dt.date | None = Field(default=None, description="Date of approval (set when signed).")
    expires: dt.date

    @property
    def pending(self) -> bool:
        """Recorded but not approved yet: it waives nothing."""
        return self.approved_by is None


class CheckSettings(Model):
    """Site-level configuration of the segmentation check."""

    disabled: tuple[Annotated[str, Field(pattern=r"^ZW\d{3}$")], ...] = ()
    waivers: tuple[Waiver, ...] = ()

    @model_validator(mode="after")
    def _unique_waiver_ids(self) -> CheckSettings:
        seen: set[str] = set()
        for w in self.waivers:
            if w.id is not None:
                if w.id in seen:
                    raise ValueError(f"two waivers have the id {w.id!r}; a signature names one waiver")
                seen.add(w.id)
        return self
    insecure_protocols: tuple[str, ...] | None = Field(
        default=None, description="Replaces the built-in list of insecure protocols when set."
    )


class SiteDocument(Model):
    """One site as written in a site file (and as stored): the unit of import and export."""

    zonewarden: Literal[1] = Field(default=1, description="Site file format version (FORMAT_VERSION).")
    site: SiteInfo
    people: tuple[Person, ...] = ()
    zones: tuple[Zone, ...] = ()
    conduits: tuple[Conduit, ...] = ()
    assets: tuple[Asset, ...] = ()
    checks: CheckSettings = CheckSettings()
    # IEC 62443-3-3 requirement sections (see domain/requirements.py and docs/gap-analysis.md).
    sl_scale: SLScale = DEFAULT_SL_SCALE
    requirements: tuple[RequirementStatus, ...] = ()
    compensating_controls: tuple[CompensatingControl, ...] = ()
    exceptions: tuple[RequirementException, ...] = ()
    capabilities: tuple[CapabilityDeclaration, ...] = ()
    # Risk method, risk register and assessment calendar (domain/risk.py, domain/governance.py).
    risk_method: RiskMethod = RiskMethod()
    risks: tuple[RiskScenario, ...] = ()
    criticality_classes: tuple[CriticalityClass, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    changes: tuple[ChangeRecord, ...] = ()
    # OT patch management (domain/patching.py, docs/patching.md).
    patch_policy: PatchPolicy = PatchPolicy()
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()
    blackouts: tuple[BlackoutPeriod, ...] = ()
    patches: tuple[VendorPatch, ...] = ()
    deferrals: tuple[Deferral, ...] = ()
    patch_changes: tuple[PatchChange, ...] = ()
    # The vendors' disclosure processes as the asset owner knows them (domain/psirt_suppliers.py).
    suppliers: tuple[Supplier, ...] = ()

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> SiteDocument:
        if info.context and info.context.get("defer_references"):
            return self
        problems = reference_problems(self)
        if problems:
            raise ValueError("; ".join(f"{p.pointer}: {p.message}" for p in problems[:20]))
        return self

    # Convenience lookups (computed per call: the model is frozen and cheap to index).
    def zone_index(self) -> dict[str, Zone]:
        return {z.id: z for z in self.zones}

    def asset_index(self) -> dict[str, Asset]:
        return {a.id: a for a in self.assets}


def reference_problems(doc: SiteDocument) -> list[Problem]:
    """Every broken reference and duplicate id in ``doc``, located by field path."""
    problems: list[Problem] = []
    for section in ("people", "zones", "conduits", "assets"):
        problems += duplicate_id_problems(section, (o.id for o in getattr(doc, section)))
    zones = {z.id for z in doc.zones}
    people = {p.id for p in doc.people}

    def person(path: tuple[str | int, ...], ref: str | None) -> None:
        if ref is not None and ref not in people:
            problems.append(Problem(f"unknown person {ref!r}: add them under 'people'", path))

    def zone(path: tuple[str | int, ...], ref: str | None) -> None:
        if ref is not None and ref not in zones:
            problems.append(Problem(f"unknown zone {ref!r}", path))

    for i, z in enumerate(doc.zones):
        person(("zones", i, "owner"), z.owner)
        zone(("zones", i, "parent"), z.parent)
        if z.parent == z.id:
            problems.append(Problem("a zone cannot be its own parent", ("zones", i, "parent")))
    for i, c in enumerate(doc.conduits):
        for j, ref in enumerate(c.zones):
            zone(("conduits", i, "zones", j), ref)
        person(("conduits", i, "owner"), c.owner)
    for i, a in enumerate(doc.assets):
        zone(("assets", i, "zone"), a.zone)
        person(("assets", i, "owner"), a.owner)
    for i, w in enumerate(doc.checks.waivers):
        person(("checks", "waivers", i, "approved_by"), w.approved_by)
    problems += requirement_reference_problems(doc)
    problems += risk_reference_problems(doc)
    problems += patching_reference_problems(doc)
    return problems


__all__ = [
    "Asset",
    "AssetRef",
    "AssetType",
    "CheckSettings",
    "Conduit",
    "Flow",
    "Initiator",
    "Person",
    "Protection",
    "Role",
    "SiteDocument",
    "SiteInfo",
    "SupportStatus",
    "Waiver",
    "Zone",
    "ZoneKind",
]
