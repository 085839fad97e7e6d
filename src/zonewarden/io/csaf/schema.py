"""CSAF 2.0 JSON schema validation with a compiled validator built once per process.

Where the schema comes from (first found wins):

1. ``ZONEWARDEN_CSAF_SCHEMA_DIR``: a directory laid out like the OASIS repository's
   ``csaf_2.0`` folder (``json_schema/csaf_json_schema.json`` and
   ``referenced_schema/first/cvss-v{2.0,3.0,3.1}.json``);
2. the PyPI package ``csaf`` (a pinned dependency), which ships the same files byte for byte
   together with their licences (OASIS IPR policy; FIRST's BSD-style terms for CVSS);
3. ``../shared/data/csaf/oasis/csaf_2.0`` beside a development checkout.

We never copy the schema into this repository. When none is found, validation reports one
deviation ("schema not checked") rather than pretending the document passed.

The CVSS ``$ref`` URLs are served from a local registry; any other remote reference fails
instead of reaching the network.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from zonewarden.io.csaf.model import Deviation, pointer

ENV_SCHEMA_DIR = "ZONEWARDEN_CSAF_SCHEMA_DIR"
CVSS_VERSIONS = ("2.0", "3.0", "3.1")
_FIRST_URL = "https://www.first.org/cvss/cvss-v{v}.json"


@dataclass(frozen=True, slots=True)
class SchemaFiles:
    """Paths of the CSAF schema and the FIRST CVSS schemas it references."""

    origin: str
    """Where the files were found: ``env``, ``package:csaf`` or ``shared``."""
    csaf: Path
    cvss: dict[str, Path]
    """CVSS version (``"2.0"``, ``"3.0"``, ``"3.1"``) to schema file."""


def _layout_oasis(root: Path, origin: str) -> SchemaFiles | None:
    csaf = root / "json_schema" / "csaf_json_schema.json"
    cvss = {v: root / "referenced_schema" / "first" / f"cvss-v{v}.json" for v in CVSS_VERSIONS}
    if csaf.is_file() and all(p.is_file() for p in cvss.values()):
        return SchemaFiles(origin, csaf, cvss)
    return None


def _layout_package() -> SchemaFiles | None:
    # find_spec locates the package without importing (and running) it.
    spec = importlib.util.find_spec("csaf")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations))) / "csaf" / "v20" / "schema"
    csaf = base / "csaf.json"
    cvss = {v: base / "referenced" / f"cvss-v{v}.json" for v in CVSS_VERSIONS}
    if csaf.is_file() and all(p.is_file() for p in cvss.values()):
        return SchemaFiles("package:csaf", csaf, cvss)
    return None


def find_schema_files() -> SchemaFiles | None:
    """Locate the schema files, or ``None`` when none of the sources has them."""
    env = os.environ.get(ENV_SCHEMA_DIR)
    if env:
        # An explicit setting that does not work is a configuration mistake: say so.
        found = _layout_oasis(Path(env), "env")
        if found is None:
            raise FileNotFoundError(
                f"{ENV_SCHEMA_DIR}={env} does not contain json_schema/csaf_json_schema.json "
                "and referenced_schema/first/cvss-v2.0.json, cvss-v3.0.json, cvss-v3.1.json"
            )
        return found
    found = _layout_package()
    if found is not None:
        return found
    shared = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "csaf" / "oasis"
    return _layout_oasis(shared / "csaf_2.0", "shared")


def _no_network(uri: str) -> Any:
    raise ValueError(f"refusing to fetch remote schema {uri}: only the bundled CVSS schemas resolve")


@dataclass(frozen=True)
class CompiledSchemas:
    """The compiled validators; built once and shared (they are thread-safe and immutable)."""

    files: SchemaFiles
    csaf: Any
    """jsonschema_rs validator for the whole document."""
    csaf_raw: dict[str, Any]
    cvss_raw: dict[str, dict[str, Any]]
    cvss: dict[str, Any]
    """CVSS version to a jsonschema_rs validator of that version's FIRST schema (test 6.1.8)."""


@cache
def compiled() -> CompiledSchemas | None:
    """The compiled validators, or ``None`` when no schema is available."""
    files = find_schema_files()
    if files is None:
        return None
    csaf_raw = orjson.loads(files.csaf.read_bytes())
    cvss_raw = {v: orjson.loads(p.read_bytes()) for v, p in files.cvss.items()}
    resources = [(_FIRST_URL.format(v=v), raw) for v, raw in cvss_raw.items()]
    registry = jsonschema_rs.Registry(resources, retriever=_no_network)
    validator = jsonschema_rs.validator_for(
        csaf_raw, registry=registry, validate_formats=True, retriever=_no_network
    )
    cvss = {
        v: jsonschema_rs.validator_for(raw, validate_formats=True, retriever=_no_network)
        for v, raw in cvss_raw.items()
    }
    return CompiledSchemas(files, validator, csaf_raw, cvss_raw, cvss)


@cache
def _precise_validator() -> Any:
    """A pure-Python ``jsonschema`` validator, used only to explain a failure precisely."""
    import jsonschema
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012, specification_with

    schemas = compiled()
    assert schemas is not None
    resources = []
    for v, raw in schemas.cvss_raw.items():
        spec = specification_with(raw.get("$schema", ""), default=DRAFT202012)
        resources.append((_FIRST_URL.format(v=v), spec.create_resource(raw)))
    registry: Registry = Registry().with_resources(resources)
    cls = jsonschema.validators.validator_for(schemas.csaf_raw)
    return cls(schemas.csaf_raw, registry=registry, format_checker=cls.FORMAT_CHECKER)


def _leaf_errors(errors: Iterable[Any]) -> Iterable[Any]:
    # oneOf/anyOf failures nest the real reasons in .context; report the deepest ones, which
    # name the property that is actually wrong instead of "is not valid under any schema".
    for err in errors:
        if err.context:
            yield from _leaf_errors(err.context)
        else:
            yield err


def schema_deviations(document: Any) -> list[Deviation]:
    """Schema deviations of ``document``; empty when it is valid.

    The fast Rust validator decides; only when it reports a failure does the Python validator
    run to produce the pointer and message of each leaf error.
    """
    schemas = compiled()
    if schemas is None:
        return [
            Deviation(
                "schema",
                "",
                "schema not checked: no CSAF 2.0 schema available (install the 'csaf' package "
                f"or set {ENV_SCHEMA_DIR})",
            )
        ]
    if schemas.csaf.is_valid(document):
        return []
    out = []
    seen = set()
    for err in _leaf_errors(_precise_validator().iter_errors(document)):
        ptr = pointer(*err.absolute_path)
        key = (ptr, err.message)
        if key in seen:
            continue
        seen.add(key)
        message = err.message if len(err.message) <= 300 else err.message[:297] + "..."
        out.append(Deviation("schema", ptr, message))
    if not out:
        # The two validators disagree; keep the fast one's verdict and its own explanation.
        for err in schemas.csaf.iter_errors(document):
            out.append(Deviation("schema", pointer(*err.instance_path), err.message[:300]))
    return out
