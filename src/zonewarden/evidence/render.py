"""Rendering an evidence package: HTML (one self-contained file), PDF (WeasyPrint, from the same
HTML) and JSON (the documented schema ``evidence/schema/package-v1.json``).

Untrusted text stays text: Jinja2 autoescaping is on for every template, nothing from the data
is marked safe except the diagram SVG, which is sanitised first (:mod:`zonewarden.evidence.svg`).
The HTML carries no script and a Content-Security-Policy that forbids scripts anyway.

Deterministic: no clock is read here. The PDF's creation and modification dates are the
package's as-of date (HTML ``dcterms`` metadata, which WeasyPrint uses for the PDF info
dictionary), and its file identifier is derived from the HTML, so the same input gives the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import TYPE_CHECKING, Any

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from zonewarden.evidence.language import LanguageError, check_data, check_text, mark
from zonewarden.evidence.text import UserText, strip_marks
from zonewarden.runtime import gc_paused

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.evidence.builder import Package

SCHEMA_ID = "zonewarden-evidence-package"
SCHEMA_VERSION = 1


def _finalize(value: Any) -> Any:
    # Called on every {{ expression }} before autoescaping: user text is bracketed for the
    # language check (markers are stripped before output); None prints as nothing.
    if value is None:
        return ""
    if isinstance(value, UserText):
        return mark(value)
    return value


def _svg(value: Any) -> Markup:
    # Only the architecture section's diagram comes here, after sanitise_svg().
    return Markup(mark(str(value))) if value else Markup("")


def _levels(value: Any) -> str:
    if value is None:
        return "–"
    if len(set(value)) == 1:
        return str(value[0])
    return " ".join(str(v) for v in value)


def _yesno(value: Any) -> str:
    return "yes" if value else "no"


def _commands(value: Any) -> Markup:
    """Text in which `backquoted` parts are commands: those print in the monospace face (in the
    text face ``--issue`` reads as an en dash), the rest as plain escaped text."""
    text = "" if value is None else str(_finalize(value))
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backquote: leave the text as it is
        return Markup.escape(text)
    return Markup("").join(Markup.escape(p) if i % 2 == 0 else Markup('<code class="nobreak">%s</code>') % p
                           for i, p in enumerate(parts))


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("zonewarden.evidence", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["svg"] = _svg
    env.filters["levels"] = _levels
    env.filters["yesno"] = _yesno
    env.filters["commands"] = _commands
    return env


@functools.cache
def stylesheet() -> str:
    return environment().loader.get_source(environment(), "style.css")[0]  # type: ignore[union-attr]


def render_html(package: Package) -> str:
    """The package as one HTML document; raises :class:`LanguageError` on forbidden wording."""
    env = environment()
    marked = env.get_template("package.html.j2").render(
        p=package, sections=package.sections, css=Markup(stylesheet())
    )
    findings = check_text(marked, where="html")
    if findings:
        raise LanguageError(findings)
    return strip_marks(marked)


def url_fetcher() -> Any:
    """WeasyPrint's fetcher for a package: only ``data:`` URLs (what the package inlines itself).

    The package HTML is self-contained; anything else a renderer could be made to fetch (a
    ``file:`` path on the build host, an ``http:`` address inside the plant network) is refused,
    so text that got past escaping still could not read local files or reach a server."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, timeout=1, allow_redirects=False)


PDF_VARIANT = "pdf/ua-1"
"""The PDF is tagged (structure tree, reading order, language, title): PDF/UA-1."""
ARCHIVE_VARIANT = "pdf/a-3u"
"""The archive PDF: PDF/A-3 (tagged too) with the JSON package embedded as an attachment."""


def render_pdf(package: Package, html: str, *, archive_json: bytes | None = None) -> bytes:
    """The PDF of ``html`` (title page, contents with page numbers, numbered pages), tagged
    (PDF/UA-1). With ``archive_json``: the PDF/A-3 archive variant carrying that JSON package as
    an embedded file (relationship ``Data``)."""
    from weasyprint import HTML, Attachment

    # A stable identifier: WeasyPrint would otherwise derive one from the output stream, which is
    # stable too, but tying it to the HTML makes the link between the two formats explicit.
    ident = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
    # Layout builds millions of boxes that live until the PDF is written; the cyclic collector
    # walked them again and again (a fifth to a third of the time, same peak memory without it).
    with gc_paused():
        options: dict[str, Any] = {"pdf_identifier": ident, "pdf_tags": True, "pdf_variant": PDF_VARIANT}
        if archive_json is not None:
            # dated on the as-of day like the rest of the PDF (WeasyPrint would stamp the clock)
            when = dt.datetime.combine(package.as_of, dt.time(0, 0), tzinfo=dt.UTC)
            options["pdf_variant"] = ARCHIVE_VARIANT
            options["attachments"] = [Attachment(string=archive_json, name=f"{package.stem}.json",
                                                 description="The evidence package as JSON (schema package-v1)",
                                                 relationship="Data", url_fetcher=url_fetcher(),
                                                 created=when, modified=when)]
        doc = HTML(string=html, base_url=None, url_fetcher=url_fetcher()).render(pdf_tags=True)
        out = doc.write_pdf(**options)
    assert out is not None
    return bytes(out)


def package_json(package: Package) -> dict[str, Any]:
    from zonewarden import __version__

    return {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "zonewarden", "version": __version__},
        "audience": package.audience.value,
        "as_of": package.as_of.isoformat(),
        "site": {"id": package.site_id, "name": package.site_name},
        "input_sha256": package.input_sha256,
        "sections": [s.as_json() for s in package.sections],
    }


def render_json(package: Package) -> bytes:
    data = package_json(package)
    findings = check_data(data)
    if findings:
        raise LanguageError(findings)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS) + b"\n"


__all__ = ["SCHEMA_ID", "SCHEMA_VERSION", "environment", "package_json", "render_html", "render_json", "render_pdf"]
