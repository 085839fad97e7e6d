"""Asset import from CSV: spreadsheets, and the exports of OT visibility tools read through their
column profiles (io/csv_profiles/: Claroty, Nozomi, Dragos, Tenable OT, Armis).

Columns are matched to asset fields by name (case- and punctuation-insensitive, with common
aliases, or the profile's columns); ``--map "Column=field"`` overrides; a value map
(``--map-values``) rewrites vendor, product, model, type, zone, criticality and OS values.
Multi-valued fields (addresses, hostnames, tags, legacy constraints) are split on ``;`` or ``|``
(addresses also on ``,``) or read as a JSON list. Every problem of every row is reported with its
line and column before anything is written; the columns that filled no field are returned so
that the caller can list them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zonewarden.domain.site import Asset, AssetType, SiteDocument
from zonewarden.errors import InputError, Problem, SiteFileError
from zonewarden.io import yamlio
from zonewarden.io.csv_profiles import Profile, ValueMaps
from zonewarden.io.csv_table import norm, open_table
from zonewarden.wording import count

LIST_FIELDS = {"addresses", "hostnames", "tags", "legacy_constraints"}
ALIASES = {
    "assetid": "id", "id": "id", "uid": "id", "identifier": "id",
    "name": "name", "assetname": "name", "devicename": "name",
    "type": "type", "assettype": "type", "devicetype": "type", "category": "type",
    "zone": "zone", "zoneid": "zone", "segment": "zone",
    "vendor": "vendor", "manufacturer": "vendor", "make": "vendor",
    "product": "product", "productname": "product", "family": "product",
    "model": "model_number", "modelnumber": "model_number", "ordernumber": "model_number", "partnumber": "model_number",
    "version": "version", "firmware": "version", "firmwareversion": "version", "softwareversion": "version",
    "cpe": "cpe", "purl": "purl",
    "os": "os", "operatingsystem": "os",
    "ip": "addresses", "ipaddress": "addresses", "ipaddresses": "addresses", "addresses": "addresses",
    "hostname": "hostnames", "hostnames": "hostnames", "dnsname": "hostnames",
    "serial": "serial_number", "serialnumber": "serial_number",
    "criticality": "criticality", "patchtier": "patch_tier", "validated": "validated",
    "vendorsupport": "vendor_support", "endofsupport": "end_of_support", "eos": "end_of_support",
    "owner": "owner", "description": "description", "notes": "notes", "tags": "tags",
}
TYPE_ALIASES = {
    "controller": "plc", "programmablelogiccontroller": "plc", "plc": "plc",
    "safetyplc": "safety-controller", "sis": "safety-controller",
    "hmi": "hmi", "operatorpanel": "hmi", "panel": "hmi",
    "engineeringstation": "engineering-workstation", "ews": "engineering-workstation",
    "engineeringworkstation": "engineering-workstation",
    "historian": "historian", "scada": "scada-server", "scadaserver": "scada-server",
    "switch": "switch", "router": "router", "firewall": "firewall",
    "server": "server", "workstation": "workstation", "pc": "workstation",
    "rtu": "rtu", "io": "io-module", "drive": "drive", "vfd": "drive", "robot": "robot",
}


_norm = norm


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["IP Address=addresses", ...]`` → {column: field}, checking the field names."""
    out = {}
    fields = set(Asset.model_fields)
    for item in items:
        column, sep, field = item.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise InputError(f"--map {item!r}: write it as COLUMN=FIELD, e.g. \"IP Address=addresses\"")
        if field.strip() not in fields:
            raise InputError(f"--map {item!r}: {field.strip()!r} is not an asset field (fields: {', '.join(sorted(fields))})")
        out[column.strip()] = field.strip()
    return out


@dataclass(frozen=True)
class UnusedColumn:
    column: str
    why: str | None = None
    """Why the column has no asset field, when the profile knows (e.g. no MAC addresses)."""


@dataclass(frozen=True)
class CsvAssets:
    assets: list[Asset]
    unused: list[UnusedColumn]
    """Header columns that filled no asset field, in file order."""


def _column_fields(header: list[str], explicit: dict[str, str], profile: Profile | None) -> dict[str, str]:
    by_profile = profile.column_of() if profile is not None else {}
    out = {}
    for col in header:
        if col in explicit:
            out[col] = explicit[col]
        elif norm(col) in by_profile:
            out[col] = by_profile[norm(col)]
        elif profile is not None and norm(col) in profile.ignore:
            continue
        elif _norm(col) in ALIASES:
            out[col] = ALIASES[_norm(col)]
    return out


def _order(header: list[str], mapping: dict[str, str], profile: Profile | None, explicit: dict[str, str]) -> list[str]:
    """The mapped columns: those named by --map first, then those the profile prefers."""
    rank: dict[str, int] = {norm(c): -1 for c in explicit}
    if profile is not None:
        for cols in profile.columns.values():
            for i, c in enumerate(cols):
                rank.setdefault(norm(c), i)
    return sorted((c for c in header if c in mapping), key=lambda c: rank.get(norm(c), 1000))


def _list_cell(cell: str, field: str) -> list[str]:
    """The items of a list cell: ``a; b`` or ``a | b`` (addresses also ``a, b``), or a JSON list
    as tools that export their API values write it (``["10.0.0.1", "10.0.0.2"]``)."""
    if cell.startswith("[") and cell.endswith("]"):
        try:
            items = json.loads(cell)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [str(i).strip() for i in items if str(i).strip()]
        cell = cell[1:-1]
    parts = re.split(r"[;|,]" if field == "addresses" else r"[;|]", cell)
    return [p.strip().strip("'\"").strip() for p in parts if p.strip().strip("'\"").strip()]


def slug(text: str) -> str:
    """An asset id made from a name: lower case, runs of other characters as '-'."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:128] or "asset"


def read_assets_csv(path: Path | str, *, columns: dict[str, str] | None = None, known_zones: set[str] | None = None,
                    encoding: str | None = None, content: bytes | None = None) -> list[Asset]:
    """Read assets from a CSV file; raise with every problem (line, column) when any row is bad.

    ``content``: the file's bytes when they did not come from disk (an upload); ``path`` is then
    only the name the messages give. The file is UTF-8 unless ``encoding`` names another codec;
    bytes that are not valid in it are an error at their line and column (guessing another
    encoding would silently turn names into mojibake)."""
    return read_assets_table(path, columns=columns, known_zones=known_zones, encoding=encoding, content=content).assets


def read_assets_table(path: Path | str, *, columns: dict[str, str] | None = None, known_zones: set[str] | None = None,
                      encoding: str | None = None, content: bytes | None = None, profile: Profile | None = None,
                      value_maps: ValueMaps | None = None) -> CsvAssets:
    """:func:`read_assets_csv` with an OT tool's column ``profile`` and user ``value_maps``; also
    returns the columns that filled no field. With a profile, a file without an id column gets
    ids derived from the profile's ``id_from`` field (the name), and the profile names the
    columns it requires."""
    raw = yamlio.read_bytes(Path(path)) if content is None else content
    name = str(path)
    table = open_table(raw, name, encoding=encoding)
    header = table.header
    mapping = _column_fields(header, columns or {}, profile)
    maps = value_maps or ValueMaps()
    unknown = [c for c in (columns or {}) if c not in header]
    problems: list[Problem] = [Problem(f"--map names column {c!r}, which the file does not have", file=name, line=1) for c in unknown]
    present = set(mapping.values())
    derive_id = profile is not None and "id" not in present
    required = profile.required if profile is not None else ("id", "name", "type")
    if derive_id and profile is not None and profile.id_from not in required:
        required = (*required, profile.id_from)

    def why(req: str) -> str:
        if profile is None:
            return f"no column for asset field {req!r}; add one or map it with --map"
        expected = ", ".join(repr(c) for c in profile.columns.get(req, ())) or "none listed"
        return (f"profile {profile.name!r} needs a column for asset field {req!r} (one of {expected}); the file's "
                f"columns are {', '.join(repr(c) for c in header)}: rename one, or map it with --map \"COLUMN={req}\"")

    problems += table.missing(present, required, why)
    if problems:
        raise SiteFileError(f"cannot read assets from {path}", problems)
    unused = [UnusedColumn(c, profile.ignore.get(norm(c)) if profile is not None else None)
              for c in header if c not in mapping]
    ordered = _order(header, mapping, profile, columns or {})
    index = {c: i for i, c in enumerate(header)}
    assets: list[Asset] = []
    ids: dict[str, int] = {}
    types = {t.value for t in AssetType}
    for line, row in table.rows(problems):
        data: dict[str, Any] = {}
        col_of: dict[str, str] = {}
        bad = False
        for col in ordered:
            field = mapping[col]
            cell = row[index[col]].strip()
            if cell == "":
                continue
            if field in LIST_FIELDS:
                parts = _list_cell(cell, field)
                merged = list(data.get(field, []))
                data[field] = merged + [p for p in parts if p not in merged]
                col_of.setdefault(field, col)
                continue
            if field in data:
                continue  # a column the profile prefers already gave this field
            col_of[field] = col
            if field == "type":
                value = maps.apply("type", cell)
                if value == cell and profile is not None:
                    value = profile.types.get(norm(cell), cell)
                value = TYPE_ALIASES.get(_norm(value), value.lower()) if value not in types else value
                if value not in types:
                    hint = f" (profile {profile.name!r} does not know it)" if profile is not None else ""
                    problems.append(Problem(
                        f"column {col!r}: {cell!r} is not an asset type{hint}; map it in a --map-values file "
                        f"under 'type:' (types: {', '.join(sorted(types))})", file=name, line=line, column=index[col] + 1))
                    bad = True
                    continue
                data[field] = value
            elif field == "criticality":
                value = maps.apply("criticality", cell)
                if value == cell and profile is not None:
                    value = profile.criticality.get(norm(cell), cell)
                data[field] = value.lower()
            else:
                data[field] = maps.apply(field, cell)
        if bad:
            continue
        if known_zones is not None and "zone" in data and data["zone"] not in known_zones:
            zcol = col_of["zone"]
            problems.append(Problem(
                f"unknown zone {data['zone']!r} (zones: {', '.join(sorted(known_zones)) or 'none'}); map the tool's "
                "zone names to zone ids in a --map-values file under 'zone:'", file=name, line=line,
                column=index[zcol] + 1))
            continue
        if derive_id and profile is not None and profile.id_from in data:
            data["id"] = slug(str(data[profile.id_from]))
            col_of["id"] = col_of.get(profile.id_from, "id")
        try:
            asset = Asset.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                field = str(err["loc"][0]) if err["loc"] else ""
                col = col_of.get(field, field)
                msg = "required cell is empty" if err["type"] == "missing" else err["msg"]
                problems.append(Problem(f"column {col!r}: {msg}", file=name, line=line,
                                        column=index[col] + 1 if col in index else None))
            continue
        if asset.id in ids:
            how = (f" (ids are made from {profile.id_from!r}: two rows have the same one; add an id column or "
                   "make the names unique)") if derive_id and profile is not None else ""
            problems.append(Problem(f"asset id {asset.id!r} already on line {ids[asset.id]}{how}", file=name, line=line))
            continue
        ids[asset.id] = line
        assets.append(asset)
    if problems:
        raise SiteFileError(f"cannot import assets from {path} ({count(len(problems), 'problem')}); nothing was written", problems)
    return CsvAssets(assets, unused)


def merge_assets(doc: SiteDocument, assets: list[Asset], *, source: str) -> SiteDocument:
    """The site with these assets added, or replacing the stored asset of the same id."""
    incoming = {a.id: a for a in assets}
    merged = [incoming.pop(a.id, a) for a in doc.assets]
    merged.extend(a for a in assets if a.id in incoming)
    try:
        # Re-validate the whole document: the new assets may reference zones or owners.
        return SiteDocument.model_validate({**doc.model_dump(), "assets": [a.model_dump() for a in merged]})
    except ValidationError as exc:
        raise SiteFileError(f"assets from {source} do not fit the site: {exc}") from None
