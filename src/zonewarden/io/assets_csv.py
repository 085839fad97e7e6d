"""Asset import from CSV, as exported by OT visibility tools (Claroty, Nozomi, Dragos, Armis...).

Columns are matched to asset fields by name (case- and punctuation-insensitive, with common
aliases); ``--map "Column=field"`` overrides. Multi-valued fields (addresses, hostnames, tags,
legacy constraints) are split on ``;`` or ``|``. Every problem of every row is reported with its
line and column name before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zonewarden.domain.site import Asset, SiteDocument
from zonewarden.errors import InputError, Problem, SiteFileError
from zonewarden.io import yamlio
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
MAX_ROWS = 1_000_000


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


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


def _column_fields(header: list[str], explicit: dict[str, str]) -> dict[str, str]:
    out = {}
    for col in header:
        if col in explicit:
            out[col] = explicit[col]
        elif _norm(col) in ALIASES:
            out[col] = ALIASES[_norm(col)]
    return out


def read_assets_csv(path: Path | str, *, columns: dict[str, str] | None = None, known_zones: set[str] | None = None,
                    encoding: str | None = None, content: bytes | None = None) -> list[Asset]:
    """Read assets from a CSV file; raise with every problem (line, column) when any row is bad.

    ``content``: the file's bytes when they did not come from disk (an upload); ``path`` is then
    only the name the messages give. The file is UTF-8 unless ``encoding`` names another codec;
    bytes that are not valid in it are an error at their line and column (guessing another
    encoding would silently turn names into mojibake)."""
    raw = yamlio.read_bytes(Path(path)) if content is None else content
    text = _decode(raw, path, encoding)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise SiteFileError(f"{path} is empty: expected a header row") from None
    except csv.Error as exc:
        raise SiteFileError(f"cannot read the header row of {path}: {exc}", [Problem(str(exc), file=str(path), line=1)]) from None
    mapping = _column_fields(header, columns or {})
    unknown = [c for c in (columns or {}) if c not in header]
    problems: list[Problem] = [Problem(f"--map names column {c!r}, which the file does not have", file=str(path), line=1) for c in unknown]
    for required in ("id", "name", "type"):
        if required not in mapping.values():
            problems.append(Problem(f"no column for asset field {required!r}; add one or map it with --map", file=str(path), line=1))
    if problems:
        raise SiteFileError(f"cannot read assets from {path}", problems)
    assets: list[Asset] = []
    ids: dict[str, int] = {}
    for row in _rows(reader, path, problems):
        line = reader.line_num
        if len(assets) > MAX_ROWS:
            raise SiteFileError(f"{path} has more than {MAX_ROWS} rows")
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(f"row has {len(row)} cells, the header has {len(header)}", file=str(path), line=line))
            continue
        data: dict[str, Any] = {}
        col_of: dict[str, str] = {}
        for col, cell in zip(header, row, strict=True):
            field = mapping.get(col)
            cell = cell.strip()
            if field is None or cell == "":
                continue
            col_of[field] = col
            if field in LIST_FIELDS:
                data[field] = [p.strip() for p in re.split(r"[;|]", cell) if p.strip()]
            elif field == "type":
                data[field] = TYPE_ALIASES.get(_norm(cell), cell.lower())
            elif field == "criticality":
                data[field] = cell.lower()
            else:
                data[field] = cell
        try:
            asset = Asset.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                field = str(err["loc"][0]) if err["loc"] else ""
                col = col_of.get(field, field)
                problems.append(Problem(f"column {col!r}: {err['msg']}", file=str(path), line=line))
            continue
        if asset.id in ids:
            problems.append(Problem(f"asset id {asset.id!r} already on line {ids[asset.id]}", file=str(path), line=line))
            continue
        ids[asset.id] = line
        if known_zones is not None and asset.zone is not None and asset.zone not in known_zones:
            problems.append(Problem(f"unknown zone {asset.zone!r} (zones: {', '.join(sorted(known_zones)) or 'none'})", file=str(path), line=line))
            continue
        assets.append(asset)
    if problems:
        raise SiteFileError(f"cannot import assets from {path} ({count(len(problems), 'problem')}); nothing was written", problems)
    return assets


def _decode(raw: bytes, path: Path | str, encoding: str | None) -> str:
    import codecs

    codec = encoding or "utf-8-sig"
    try:
        codecs.lookup(codec)
    except LookupError:
        raise SiteFileError(f"unknown text encoding {encoding!r} (e.g. utf-8, cp1252, latin-1)") from None
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = ("save it as UTF-8, or name its encoding with --encoding (e.g. cp1252)" if encoding is None
                else f"it is not {encoding} text")
        raise SiteFileError(f"{path} is not {'UTF-8' if encoding is None else encoding} text", [Problem(
            f"byte 0x{raw[exc.start]:02X} is not valid {'UTF-8' if encoding is None else encoding}: {hint}",
            file=str(path), line=line, column=column)]) from None


def _rows(reader: Any, path: Path | str, problems: list[Problem]) -> Iterator[list[str]]:
    """The reader's rows; a row the csv module cannot read (an over-long cell, a stray quote
    in strict mode) ends the file with a positioned problem instead of a traceback."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(f"cannot read this row: {exc} (a cell over {csv.field_size_limit()} "
                                    "characters, or an unterminated quote)", file=str(path), line=reader.line_num))
            return
        yield row


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
