"""Site files: one YAML file, or a directory of YAML files that each hold some sections.

A directory is merged section by section (``zones.yaml`` holds ``zones:``, ...); a section may
appear in only one file, so every field path maps to exactly one file and line. Validation is
structural (pydantic) first, then referential (:func:`reference_problems`); every problem of
every file is collected before anything is reported, and nothing is written by this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from zonewarden.domain.site import NeedsExactText, SiteDocument, reference_problems
from zonewarden.errors import Problem, SiteFileError
from zonewarden.io import yamlio
from zonewarden.io.field_hints import did_you_mean
from zonewarden.runtime import gc_paused
from zonewarden.wording import count

YAML_SUFFIXES = (".yaml", ".yml")
SITE_FILE_NAME = "site.yaml"
STAMP_FILE_NAME = "zonewarden-stamp.json"
"""The export stamp in a site folder: the database revision the files came from (JSON, so the
loader, which reads ``*.yaml``, never takes it for a section)."""


@dataclass
class SiteSource:
    """The raw sections of one site and where each came from."""

    sections: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Path] = field(default_factory=dict)
    texts: dict[Path, str] = field(default_factory=dict)
    label: str = ""

    exact: bool = False
    """Read numbers with their spelling (slow path); see yamlio.loads."""
    base_dir: Path | None = None
    """The site folder: evidence file paths are relative to it (and confined to it)."""

    def add_file(self, path: Path, problems: list[Problem], raw: bytes | None = None) -> None:
        """Add one file's sections; ``raw``: its bytes when they did not come from disk."""
        if raw is None:
            raw = yamlio.read_bytes(path)
        text = raw.decode("utf-8-sig", errors="replace")
        self.texts[path] = text
        try:
            data = yamlio.loads(raw, source=str(path), exact=self.exact)
        except SiteFileError as exc:
            problems.extend(exc.problems or [Problem(str(exc), file=str(path))])
            return
        if data is None:
            return
        if not isinstance(data, dict):
            problems.append(Problem("a site file is a mapping of sections (site:, zones:, assets:, ...)", file=str(path), line=1))
            return
        for key, value in data.items():
            key = str(key)
            if key in self.sections:
                problems.append(
                    Problem(
                        f"section {key!r} is also in {self.origin[key]}: keep each section in one file",
                        (key,),
                        file=str(path),
                    )
                )
                continue
            self.sections[key] = value
            self.origin[key] = path

    def locate(self, problem: Problem) -> Problem:
        """Fill in file, line and column for a problem that only has a field path."""
        if not problem.path or problem.file:
            return problem
        path = self.origin.get(str(problem.path[0]))
        if path is None:
            # A missing section is reported against the site file.
            path = next(iter(self.texts), None)
            if path is None:
                return problem
            return Problem(problem.message, problem.path, str(path), None, None)
        pos = yamlio.locate(self.texts[path], problem.path)
        line, column = pos if pos else (None, None)
        return Problem(problem.message, problem.path, str(path), line, column)


def discover_sites(path: Path) -> list[Path]:
    """The site inputs under ``path``: a file, a directory of section files, or a directory of
    such directories (one per site, as ``zonewarden export`` writes them)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SiteFileError(f"{path} does not exist: give a site file or a directory of site files")
    if _yaml_files(path):
        return [path]
    subdirs = sorted(p for p in path.iterdir() if p.is_dir() and _yaml_files(p))
    if not subdirs:
        raise SiteFileError(f"{path} holds no site files (*.yaml) and no site directories")
    return subdirs


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in YAML_SUFFIXES)


def read_source(path: Path, *, exact: bool = False) -> SiteSource:
    """Read one site (a file or a directory of section files) into raw sections."""
    source = SiteSource(label=str(path), exact=exact, base_dir=path if path.is_dir() else path.parent)
    problems: list[Problem] = []
    files = [path] if path.is_file() else _yaml_files(path)
    for f in files:
        source.add_file(f, problems)
    if problems:
        # A file that cannot be read must not hide what is wrong in the others.
        problems += _problems_of_readable_files(source, files)
        raise SiteFileError(f"cannot read site {path}", problems)
    return source


def _problems_of_readable_files(source: SiteSource, files: list[Path]) -> list[Problem]:
    """Structural problems inside the sections that were read, when another file of the site
    could not be read. A section missing altogether, and references, are not reported: they may
    be in the unreadable file."""
    if not source.sections:
        return []
    try:
        SiteDocument.model_validate(source.sections, context=_context(source))
    except ValidationError as exc:
        found = [p for p in pydantic_problems(exc) if not (len(p.path) == 1 and p.message == "required field is missing")]
        return [source.locate(p) for p in found if p.path and str(p.path[0]) in source.sections]
    except NeedsExactText:
        if source.exact:
            return []
        exact = SiteSource(label=source.label, exact=True, base_dir=source.base_dir)
        for f in files:
            exact.add_file(f, [])  # the same files fail the same way; their problems are in hand
        return _problems_of_readable_files(exact, files)
    return []


def pydantic_problems(exc: ValidationError, model: type[BaseModel] | None = None) -> list[Problem]:
    """One problem per pydantic error, at the field path the user wrote. ``model`` (default: the
    site document, when that is what failed) lets an unknown field name the one meant."""
    if model is None and exc.title == SiteDocument.__name__:
        model = SiteDocument
    out = []
    for err in exc.errors(include_url=False):
        raw = err["loc"]
        # Union members show up in the location as model names; the key of an unknown field is
        # the user's own spelling and stays whatever its case.
        last = raw[-1:] if err["type"] == "extra_forbidden" else ()
        loc = tuple(
            part for part in raw[: len(raw) - len(last)]
            if isinstance(part, int) or ("[" not in part and not part[:1].isupper())
        ) + tuple(last)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            meant = did_you_mean(model, loc) if model is not None else None
            message = (
                f"unknown field: did you mean `{meant}`?"
                if meant is not None
                else "unknown field (check the spelling; `zonewarden schema` lists the fields)"
            )
        elif err["type"] == "missing":
            message = "required field is missing"
        out.append(Problem(message, loc))
    return out


def _item_adapters() -> dict[str, TypeAdapter[Any]]:
    """A validator per list section's item type, to validate a broken document item by item."""
    out: dict[str, TypeAdapter[Any]] = {}
    for name, info in SiteDocument.model_fields.items():
        args = get_args(info.annotation)
        if get_origin(info.annotation) is tuple and len(args) == 2 and args[1] is Ellipsis:
            out[name] = TypeAdapter(args[0])
    return out


def _reference_problems_of_valid_part(sections: dict[str, Any]) -> list[Problem]:
    """Reference problems among the items that are valid on their own.

    Structural errors in one object should not hide a dangling reference in another: the user
    gets every problem of the file in one pass. Items that failed are left out (and references
    to their ids are not reported, since the id itself may be what is wrong).
    """
    adapters = _item_adapters()
    partial: dict[str, Any] = {}
    index_map: dict[str, list[int]] = {}
    dropped_ids: set[str] = set()
    for name, value in sections.items():
        adapter = adapters.get(name)
        if adapter is None or not isinstance(value, list):
            partial[name] = value
            continue
        kept, positions = [], []
        for i, item in enumerate(value):
            try:
                kept.append(adapter.validate_python(item))
                positions.append(i)
            except ValidationError:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    dropped_ids.add(item["id"])
        partial[name], index_map[name] = kept, positions
    try:
        doc = SiteDocument.model_validate(partial, context={"defer_references": True})
    except ValidationError:
        return []  # a non-list section (site:, checks:) is broken; its errors are already reported
    out = []
    for p in reference_problems(doc):
        if any(repr(d) in p.message for d in dropped_ids):
            continue
        path = p.path
        if len(path) > 1 and isinstance(path[1], int) and str(path[0]) in index_map:
            path = (path[0], index_map[str(path[0])][path[1]], *path[2:])
        out.append(Problem(p.message, path))
    return out


def _context(source: SiteSource) -> dict[str, bool]:
    return {"defer_references": True, "exact_numbers_available": not source.exact}


def document_from_source(source: SiteSource) -> SiteDocument:
    """Validate raw sections into a :class:`SiteDocument`, or raise with every problem located."""
    try:
        doc = SiteDocument.model_validate(source.sections, context=_context(source))
    except ValidationError as exc:
        problems = pydantic_problems(exc) + _reference_problems_of_valid_part(source.sections)
        located = sorted((source.locate(p) for p in problems), key=lambda p: (p.file or "", p.line or 0, p.column or 0))
        raise SiteFileError(f"site {source.label} is invalid ({count(len(located), 'problem')})", located) from None
    problems = reference_problems(doc)
    if source.base_dir is not None:
        from zonewarden.io.evidence_files import evidence_problems

        problems += evidence_problems(doc, source.base_dir)
    if problems:
        located = [source.locate(p) for p in problems]
        raise SiteFileError(f"site {source.label} is invalid ({count(len(located), 'problem')})", located)
    return doc


def load_site(path: Path) -> SiteDocument:
    """Read and validate one site from a file or a section directory.

    The fast YAML path is tried first; if a text field holds a plain number whose spelling the
    fast parser lost (``version: 2.10``), the files are read again exactly.
    """
    # A large site is millions of new objects; the cyclic collector would walk them again and
    # again while they are built (40 % of loading a 100k-asset site).
    with gc_paused():
        try:
            return document_from_source(read_source(path))
        except NeedsExactText:
            return document_from_source(read_source(path, exact=True))


MAX_UPLOAD_FILES = 64


def load_site_bytes(files: Mapping[str, bytes], *, label: str = "upload") -> SiteDocument:
    """Read and validate one site from the bytes of its files (an upload): ``{name: bytes}``,
    one site file or its section files, exactly as :func:`load_site` reads them from a folder.
    Problems name the file as given, with line and column. Evidence files are not part of an
    upload: a record that references one is checked when the site is imported from its folder."""
    problems: list[Problem] = []
    if not files:
        raise SiteFileError("no site file given: send a site file (site.yaml) or its section files")
    if len(files) > MAX_UPLOAD_FILES:
        raise SiteFileError(f"{len(files)} files: a site is at most {MAX_UPLOAD_FILES} section files")
    for name in files:
        if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(YAML_SUFFIXES):
            problems.append(Problem(f"{name!r}: give plain file names ending in .yaml or .yml", file=name))
    if problems:
        raise SiteFileError(f"cannot read site {label}", problems)

    def read(exact: bool) -> SiteDocument:
        source = SiteSource(label=label, exact=exact)
        found: list[Problem] = []
        for name in sorted(files):
            source.add_file(Path(name), found, raw=files[name])
        if found:
            raise SiteFileError(f"cannot read site {label}", found)
        return document_from_source(source)

    with gc_paused():
        try:
            return read(False)
        except NeedsExactText:
            return read(True)


def load_sites(path: Path) -> list[tuple[Path, SiteDocument]]:
    """Read every site under ``path``; all problems of all sites are reported together."""
    out: list[tuple[Path, SiteDocument]] = []
    problems: list[Problem] = []
    for site_path in discover_sites(path):
        try:
            out.append((site_path, load_site(site_path)))
        except SiteFileError as exc:
            problems.extend(exc.problems or [Problem(str(exc), file=str(site_path))])
    if problems:
        raise SiteFileError(f"{path}: {count(len(problems), 'problem')}; nothing was imported", problems)
    ids = [doc.site.id for _, doc in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SiteFileError(f"{path}: site id(s) {', '.join(dupes)} appear in more than one site directory")
    return out


# --- writing -----------------------------------------------------------------------------

def document_sections(doc: SiteDocument) -> dict[str, Any]:
    """The document as plain data, one entry per section, defaults left out."""
    return doc.model_dump(mode="json", exclude_defaults=True, by_alias=True)


def split_for_export(doc: SiteDocument) -> dict[str, dict[str, Any]]:
    """File name → content. List sections get a file each; the rest goes into ``site.yaml``."""
    data = document_sections(doc)
    files: dict[str, dict[str, Any]] = {SITE_FILE_NAME: {"zonewarden": doc.zonewarden}}
    for name in SiteDocument.model_fields:
        if name not in data or name == "zonewarden":
            continue
        value = data[name]
        if isinstance(value, list):
            files[f"{name}.yaml"] = {name: value}
        else:
            files[SITE_FILE_NAME][name] = value
    return files


def write_site(
    doc: SiteDocument, directory: Path, evidence: dict[str, bytes] | None = None,
    stamp: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``doc`` as a section directory, with its evidence files at their recorded paths and
    its export ``stamp`` (:data:`STAMP_FILE_NAME`; without one, a stamp left by an earlier export
    is removed, since it would describe other content). Files are written next to their final
    name and renamed into place, so an interrupted export never leaves a half-written file."""
    from zonewarden.io.atomic import make_dir, write_atomic

    make_dir(directory)
    written = []
    if stamp is not None:
        written.append(write_stamp(directory, stamp))
    else:
        (directory / STAMP_FILE_NAME).unlink(missing_ok=True)
    if evidence:
        from zonewarden.io.evidence_files import resolve_evidence_path

        for rel, data in sorted(evidence.items()):
            target = resolve_evidence_path(directory, rel)  # confined, as on import
            make_dir(target.parent)
            written.append(write_atomic(target, data))
    files = split_for_export(doc)
    for name, content in files.items():
        target = directory / name
        written.append(write_atomic(target, yamlio.dumps(content).encode("utf-8")))
    # A section that became empty since the last export must not linger in the directory.
    for stale in _yaml_files(directory):
        if stale.name not in files and stale.stem in SiteDocument.model_fields:
            stale.unlink()
    return written


# --- the export stamp -------------------------------------------------------------------------

def write_stamp(directory: Path, stamp: Mapping[str, Any]) -> Path:
    """Write the export stamp of a site folder (sorted keys, one line: identical for identical content)."""
    from zonewarden.io.atomic import write_atomic

    data = json.dumps(stamp, sort_keys=True, separators=(",", ":")) + "\n"
    return write_atomic(directory / STAMP_FILE_NAME, data.encode("utf-8"))


def read_stamp(site_path: Path, site_id: str) -> dict[str, Any] | None:
    """The export stamp of a site folder, or None when it has none (a single file has none).

    A stamp that cannot be read, or that names another site (copied from another export), is
    an error: importing without it would lose the protection it gives."""
    path = site_path / STAMP_FILE_NAME if site_path.is_dir() else None
    if path is None or not path.is_file():
        return None
    fix = f"export the site again, or delete {path.name} to import the folder as unstamped files"
    try:
        stamp = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise SiteFileError(f"cannot read export stamp {path}", [Problem(f"not JSON ({exc}); {fix}", file=str(path))]) from None
    problems: list[Problem] = []

    def bad(pointer: tuple[str | int, ...], why: str) -> None:
        problems.append(Problem(f"{why}; {fix}", pointer, file=str(path)))

    if not isinstance(stamp, dict):
        bad((), "an export stamp is a JSON object")
    else:
        if stamp.get("format") != 1:
            bad(("format",), f"unknown stamp format {stamp.get('format')!r} (this zonewarden reads format 1)")
        if not isinstance(stamp.get("site"), str):
            bad(("site",), "required: the id of the site exported")
        elif stamp["site"] != site_id:
            bad(("site",), f"the stamp is of site {stamp['site']!r}, the files describe site {site_id!r}")
        revision = stamp.get("revision")
        if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
            bad(("revision",), "required: the database revision exported (a whole number >= 0)")
        if not isinstance(stamp.get("content_hash"), str):
            bad(("content_hash",), "required: the content hash of the site exported")
        records = stamp.get("records")
        if not isinstance(records, dict):
            bad(("records",), "required: the digest of every record exported")
        else:
            for section, digests in records.items():
                if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
                    bad(("records", section), "a section's records map each id to a digest (text)")
    if problems:
        raise SiteFileError(f"export stamp {path} is invalid", problems)
    return stamp  # type: ignore[no-any-return]
