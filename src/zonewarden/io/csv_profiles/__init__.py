"""Column profiles for the asset exports of OT visibility tools, and user value maps.

A profile (``<name>.yaml`` beside this file, safe-loaded) says which of a tool's export columns
fill which asset field, how the tool fills product versus model, how its asset types map to
zonewarden's, and which of its columns have no zonewarden field (and why). Each profile records
where its column names come from and how sure that is: the tools let users choose and rename
columns, so a profile is a starting point that ``--map COLUMN=FIELD`` and ``--map-values FILE``
adjust, and the import lists every column it did not use.

A value map (``--map-values FILE``, YAML) rewrites cell values before they are checked::

    vendor:
      Siemens AG: Siemens
    model:
      "6ES7 516-3AN01-0AB0": 6ES7516-3AN01-0AB0
    type:
      Safety PLC: safety-controller
    zone:
      Packaging Line 2: pack-l2
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from zonewarden.domain.common import ID_PATTERN, Criticality
from zonewarden.domain.site import Asset, AssetType
from zonewarden.errors import InputError, Problem, SiteFileError
from zonewarden.io import yamlio
from zonewarden.io.csv_table import norm

VALUE_MAP_SECTIONS = {
    "vendor": "vendor", "product": "product", "model": "model_number", "type": "type", "zone": "zone",
    "criticality": "criticality", "os": "os",
}
"""Sections of a value-map file and the asset field each rewrites."""


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    source: str
    certainty: str
    product_model: str
    columns: dict[str, tuple[str, ...]]
    """Asset field -> the tool's column names for it, in order of preference."""
    required: tuple[str, ...]
    id_from: str
    """When no column gives the asset id: the field it is derived from (a slug of it)."""
    types: dict[str, str]
    """The tool's asset type (normalised) -> zonewarden asset type."""
    criticality: dict[str, str]
    ignore: dict[str, str]
    """Columns (normalised) with no zonewarden field -> why."""

    def column_of(self) -> dict[str, str]:
        """Normalised column name -> field."""
        out: dict[str, str] = {}
        for fld, cols in self.columns.items():
            for col in cols:
                out.setdefault(norm(col), fld)
        return out


def _data_dir() -> Any:
    return resources.files(__name__)


def profile_names() -> list[str]:
    return sorted(p.name[:-5] for p in _data_dir().iterdir() if p.name.endswith(".yaml"))


def load_profile(name: str) -> Profile:
    """The named profile; an unknown name is an input error naming the known ones."""
    names = profile_names()
    key = name.strip().lower()
    if key not in names:
        raise InputError(f"unknown CSV profile {name!r} (profiles: {', '.join(names)}; "
                         "`zonewarden import --profile list` describes them)")
    res = _data_dir() / f"{key}.yaml"
    data = yamlio.loads(res.read_bytes(), source=f"csv_profiles/{key}.yaml")
    return _profile(key, data)


def _profile(name: str, data: dict[str, Any]) -> Profile:
    # Package data written by us: a malformed profile is a programming error, checked by the tests.
    fields = set(Asset.model_fields)
    columns = {f: tuple(c if isinstance(c, list) else [c]) for f, c in (data.get("columns") or {}).items()}
    bad = [f for f in columns if f not in fields]
    if bad:
        raise ValueError(f"profile {name}: {bad} are not asset fields")
    types = {norm(k): str(v) for k, v in (data.get("types") or {}).items()}
    wrong = {k: v for k, v in types.items() if v not in {t.value for t in AssetType}}
    if wrong:
        raise ValueError(f"profile {name}: {wrong} map to no asset type")
    return Profile(
        name=name, title=str(data["title"]), source=str(data["source"]).strip(),
        certainty=str(data.get("certainty", "")).strip(), product_model=str(data.get("product_model", "")).strip(),
        columns=columns, required=tuple(data.get("required", ("name", "type"))),
        id_from=str(data.get("id_from", "name")),
        types=types, criticality={norm(k): str(v) for k, v in (data.get("criticality") or {}).items()},
        ignore={norm(k): str(v) for k, v in (data.get("ignore") or {}).items()},
    )


def all_profiles() -> list[Profile]:
    return [load_profile(n) for n in profile_names()]


@dataclass(frozen=True)
class ValueMaps:
    """Field -> {normalised value: replacement}."""

    maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def apply(self, fld: str, value: str) -> str:
        table = self.maps.get(fld)
        if not table:
            return value
        return table.get(value, table.get(norm(value), value))


def _key_place(text: str, keys: list[str | int]) -> tuple[int, int] | None:
    """1-based (line, column) of the last key of ``keys`` (a mapping key, not its value)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    try:
        node = YAML(typ="safe", pure=True).compose(text)
    except YAMLError:
        return None
    for i, part in enumerate(keys):
        if not isinstance(node, MappingNode):
            return None
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == str(part):
                if i == len(keys) - 1:
                    return k.start_mark.line + 1, k.start_mark.column + 1
                node = v
                break
        else:
            return None
    return None


def load_value_maps(path: Path) -> ValueMaps:
    """Read a ``--map-values`` YAML file; every problem is reported at its line."""
    raw = yamlio.read_bytes(path)
    data = yamlio.loads(raw, source=str(path))
    text = raw.decode("utf-8-sig", errors="replace")
    problems: list[Problem] = []

    def at(keys: list[str | int], message: str, *, key: bool = False) -> None:
        where = _key_place(text, keys) if key else yamlio.locate(text, keys)
        problems.append(Problem(message, tuple(keys), file=str(path), line=where[0] if where else None,
                                column=where[1] if where else None))

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SiteFileError(f"cannot read value maps from {path}", [Problem(
            "the file must be a mapping of sections (vendor, product, model, type, zone, criticality, os) "
            "to 'tool value: zonewarden value' pairs", file=str(path), line=1)])
    maps: dict[str, dict[str, str]] = {}
    types = {t.value for t in AssetType}
    crits = {c.value for c in Criticality}
    for section, table in data.items():
        sect = str(section)
        if sect not in VALUE_MAP_SECTIONS:
            at([sect], f"unknown section {sect!r} (sections: {', '.join(VALUE_MAP_SECTIONS)})", key=True)
            continue
        if not isinstance(table, dict):
            at([sect], f"section {sect!r} must map values, e.g. 'Siemens AG: Siemens'")
            continue
        out: dict[str, str] = {}
        for key, value in table.items():
            k = str(key)
            if not isinstance(value, (str, int, float)) or isinstance(value, bool) or str(value).strip() == "":
                at([sect, k], f"{sect} {k!r}: the replacement must be a non-empty text")
                continue
            v = str(value).strip()
            if sect == "type" and v not in types:
                at([sect, k], f"type {k!r}: {v!r} is not an asset type (types: {', '.join(sorted(types))})")
                continue
            if sect == "criticality" and v not in crits:
                at([sect, k], f"criticality {k!r}: {v!r} is not one of {', '.join(c.value for c in Criticality)}")
                continue
            if sect == "zone" and not re.match(ID_PATTERN, v):
                at([sect, k], f"zone {k!r}: {v!r} is not a zone id (letters, digits, '-', '_', '.', ':')")
                continue
            out[k] = v
            out.setdefault(norm(k), v)
        maps[VALUE_MAP_SECTIONS[sect]] = out
    if problems:
        raise SiteFileError(f"cannot read value maps from {path}", problems)
    return ValueMaps(maps)


__all__ = ["Profile", "ValueMaps", "all_profiles", "load_profile", "load_value_maps", "norm", "profile_names"]
