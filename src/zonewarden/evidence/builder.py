"""The package builder: document + audience + as-of -> sections -> files + manifest.

    pkg = build_package(doc, Audience.CUSTOMER, as_of)
    files = render_package(pkg, ["html", "json", "pdf"])   # name -> bytes, manifest included
    write_package(files, out_dir)

Redaction happens first (customer sections only ever see the redacted document), and the
rendered customer files are searched for every sensitive value of the original document
before anything is returned (:func:`zonewarden.evidence.redaction.find_leaks`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from zonewarden.domain.site import SiteDocument
from zonewarden.errors import InputError
from zonewarden.evidence.appendix import assign_letters, descriptors
from zonewarden.evidence.appendix import note as appendix_note
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.manifest import (
    MANIFEST_NAME,
    SUMS_NAME,
    build_manifest,
    manifest_bytes,
    sums_bytes,
)
from zonewarden.evidence.redaction import (
    Audience,
    LeakError,
    find_leaks,
    redact_document,
    sensitive_values,
)
from zonewarden.evidence.sections import SectionData, sections_for
from zonewarden.evidence.text import UserText, strip_marks
from zonewarden.io.atomic import make_dir, write_atomic

FORMATS = ("html", "pdf", "json", "pdfa")
"""``pdfa``: ``evidence-<audience>-archive.pdf``, PDF/A-3 with the JSON package embedded."""


@dataclass
class Package:
    """A built package, before rendering."""

    audience: Audience
    as_of: dt.date
    site_id: str
    site_name: str
    input_sha256: str
    sections: list[SectionData]
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per section ('section:<id>') and per engine ('engine:<name>'); not rendered."""
    sensitive: tuple[str, ...] = ()
    """For customer packages: the values the leak guard searches for."""

    @property
    def stem(self) -> str:
        return f"evidence-{self.audience.value}"


def build_package(
    doc: SiteDocument, audience: Audience | str, as_of: dt.date, *, extras: Mapping[str, Any] | None = None
) -> Package:
    """Build every section for ``audience``. ``extras`` carries data that lives outside the site
    document (``advisories``: findings and triage decisions from the database); each entry
    becomes an attribute of the build context and is covered by the input snapshot hash."""
    from zonewarden.services.sites import content_hash

    audience = Audience(audience)
    visible = redact_document(doc, audience)
    ctx = BuildContext(visible, audience, as_of)
    for name, value in sorted((extras or {}).items()):
        setattr(ctx, name, value)
    input_sha256 = content_hash(doc)
    if extras:
        snapshot = orjson.dumps(extras, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
        input_sha256 = hashlib.sha256(input_sha256.encode() + b"\n" + snapshot).hexdigest()
    timings: dict[str, float] = {}
    chosen = sections_for(audience)
    built: dict[str, SectionData] = {}
    # Sections that summarise the others are built last but keep their place in the order.
    later = [s for s in chosen if getattr(s, "after_others", False)]
    for section in [s for s in chosen if s not in later] + later:
        if section in later:
            ctx.built_sections = [built[s.id] for s in chosen if s.id in built]  # type: ignore[attr-defined]
        before = dict(ctx.timings)
        start = time.perf_counter()
        built[section.id] = section.build(ctx)
        spent = time.perf_counter() - start
        engines = sum(v for k, v in ctx.timings.items() if k not in before)
        timings[f"section:{section.id}"] = spent - engines
    sections = [built[s.id] for s in chosen]
    assign_letters(sections)  # "Appendix A", "B"... in package order
    for name, seconds in ctx.timings.items():
        timings[f"engine:{name}"] = seconds
    return Package(
        audience=audience,
        as_of=as_of,
        site_id=UserText(strip_marks(doc.site.id)),
        site_name=UserText(strip_marks(doc.site.name)),
        input_sha256=input_sha256,
        sections=sections,
        timings=timings,
        sensitive=sensitive_values(doc, visible) if audience is Audience.CUSTOMER else (),
    )


CHECKPOINT_NOTE = (
    "This signed audit checkpoint proves that the audit log held these events, unchanged, when the package "
    "was built: `zonewarden audit verify --checkpoint FILE --key KEY` shows whether any was rewritten since."
)


def render_package(package: Package, formats: Iterable[str],
                   attachments: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Every requested format plus ``manifest.json`` and ``SHA256SUMS``, by file name.
    ``attachments`` (e.g. the signed audit checkpoint) are listed and hashed in the manifest."""
    from zonewarden import __version__
    from zonewarden.evidence.render import render_html, render_json, render_pdf

    wanted = sorted(set(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise InputError(f"unknown format(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(FORMATS)}")
    files: dict[str, bytes] = {}
    texts: list[tuple[str, str]] = []
    html: str | None = None
    if "html" in wanted or "pdf" in wanted or "pdfa" in wanted:
        start = time.perf_counter()
        html = render_html(package)
        package.timings["render:html"] = time.perf_counter() - start
        texts.append((f"{package.stem}.html", html))
        if "html" in wanted:
            files[f"{package.stem}.html"] = html.encode("utf-8")
    if "json" in wanted:
        start = time.perf_counter()
        files[f"{package.stem}.json"] = render_json(package)
        package.timings["render:json"] = time.perf_counter() - start
        texts.append((f"{package.stem}.json", files[f"{package.stem}.json"].decode("utf-8")))
    if "pdf" in wanted:
        assert html is not None
        start = time.perf_counter()
        files[f"{package.stem}.pdf"] = render_pdf(package, html)
        package.timings["render:pdf"] = time.perf_counter() - start
    if "pdfa" in wanted:
        assert html is not None
        start = time.perf_counter()
        archived = files.get(f"{package.stem}.json") or render_json(package)
        files[f"{package.stem}-archive.pdf"] = render_pdf(package, html, archive_json=archived)
        package.timings["render:pdfa"] = time.perf_counter() - start
    appendices: dict[str, bytes] = {}
    notes: dict[str, str] = {}
    for section in package.sections:
        appendices.update(section.files)  # appendix files (e.g. a large asset register as CSV)
        for descriptor in descriptors(section):
            if descriptor.get("file") in section.files:
                notes[descriptor["file"]] = appendix_note(descriptor)
    if package.audience is Audience.CUSTOMER:
        # The PDF is made from the checked HTML; its metadata comes from the same HTML head.
        # Appendix files are searched too: they leave with the package like the PDF.
        leaks = find_leaks(texts + [(name, data.decode("utf-8", "replace")) for name, data in sorted(appendices.items())],
                           package.sensitive)
        if leaks:
            raise LeakError(leaks)
    files.update(appendices)
    files.update(attachments or {})
    manifest = build_manifest(
        files,
        audience=package.audience.value,
        site_id=package.site_id,
        as_of=package.as_of.isoformat(),
        input_sha256=package.input_sha256,
        generator_version=__version__,
        formats=wanted,
        notes={**notes, **{name: CHECKPOINT_NOTE for name in attachments or {} if name.startswith("audit-checkpoint-")}},
    )
    sums = sums_bytes(files)
    files[MANIFEST_NAME] = manifest_bytes(manifest)
    files[SUMS_NAME] = sums
    return files


def write_package(files: dict[str, bytes], directory: Path, *, mode: int | None = None) -> list[Path]:
    """Write ``files`` into ``directory`` (created owner-only if needed), each atomically through
    ``write_atomic``: readable by the owner only unless ``mode`` says otherwise (a package names
    assets, notes and locations), and never through a planted symlink."""
    make_dir(directory)
    return [write_atomic(directory / name, data, mode=mode) for name, data in sorted(files.items())]


__all__ = ["FORMATS", "Package", "build_package", "render_package", "write_package"]
