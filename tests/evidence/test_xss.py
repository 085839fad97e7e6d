"""Untrusted text stays text: script tags and HTML in every free-text field are escaped in the
HTML and the PDF, and nothing executes when headless Chromium loads the package."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package, render_package

from .conftest import AS_OF, pdf_text

PAYLOAD = (
    '<script>document.title="PWNED"</script><img src=x onerror="document.title=\'PWNED\'">'
    "<b>bold</b>\"'&amp;"
)
NOT_TEXT = {"timezone"}  # checked against the IANA database for the whole document


def _inject(value: Any, key: Any = None) -> Any:
    if isinstance(value, dict):
        return {k: _inject(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_inject(v, key) for v in value]
    if isinstance(value, str) and key not in NOT_TEXT:
        return f"{PAYLOAD} {value}"
    return value


def _get(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        data = data[part]
    return data


def _set(data: Any, loc: tuple[Any, ...], value: Any) -> None:
    _get(data, loc[:-1])[loc[-1]] = value


_POINTER = re.compile(r"(?:^Value error, |; )([a-z_]+(?:\[\d+\]|\.[a-z_0-9]+)*): ")


def _loc(pointer: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[a-z_0-9]+", pointer))


def hostile(doc: SiteDocument) -> SiteDocument:
    """``doc`` with the payload in front of every string the model accepts as free text.

    The payload goes into every string value; fields that reject it (ids, enum values, dates,
    patterns) get their original value back, over-long ones are cut to their maximum length.
    """
    from pydantic import ValidationError

    original = doc.model_dump(mode="json")
    data = _inject(original)
    for _ in range(100):
        try:
            return SiteDocument.model_validate(data)
        except ValidationError as exc:
            errors = []
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("int", "str") or "[" in str(p)))
                if loc:
                    errors.append((loc, err))
                else:  # a whole-document reference check names its fields by pointer
                    errors += [(_loc(ptr), {"type": "reference"}) for ptr in _POINTER.findall(err["msg"])]
            for loc, err in errors:
                try:
                    current = _get(data, loc)
                except (KeyError, IndexError, TypeError):
                    continue
                if err["type"] == "string_too_long" and isinstance(current, str):
                    _set(data, loc, current[: err["ctx"]["max_length"]])
                else:
                    _set(data, loc, _get(original, loc))
    raise AssertionError("could not build a hostile document")


@pytest.fixture(scope="module")
def hostile_files(example_doc: SiteDocument) -> dict[str, dict[str, bytes]]:
    doc = hostile(example_doc)
    assert PAYLOAD in doc.zones[0].name and PAYLOAD in doc.risks[0].title
    return {
        aud: render_package(build_package(doc, aud, AS_OF), ["html", "pdf"] if aud == "customer" else ["html"])
        for aud in ("auditor", "customer")
    }


@pytest.mark.parametrize("audience", ["auditor", "customer"])
def test_markup_is_escaped(hostile_files: dict[str, dict[str, bytes]], audience: str) -> None:
    text = hostile_files[audience][f"evidence-{audience}.html"].decode()
    assert not re.search(r"<\s*script", text, re.IGNORECASE)
    assert not re.search(r"<\s*img", text, re.IGNORECASE)
    assert "<b>bold</b>" not in text
    assert "&lt;script&gt;" in text and "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "&amp;amp;" in text  # an entity in the data is shown, not interpreted


def test_auditor_package_shows_the_payload_in_every_kind_of_field(hostile_files: dict[str, dict[str, bytes]]) -> None:
    text = hostile_files["auditor"]["evidence-auditor.html"].decode()
    assert text.count("&lt;script&gt;") > 100  # zones, risks, controls, method, scale, ...


def test_pdf_shows_markup_as_text(hostile_files: dict[str, dict[str, bytes]]) -> None:
    text = pdf_text(hostile_files["customer"]["evidence-customer.pdf"])
    assert "<script>" in text.replace("\n", "")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(path: Path, tmp: Path) -> str:
    exe = _chromium()
    assert exe is not None
    out = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=3000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _title(dom: str) -> str:
    m = re.search(r"<title>(.*?)</title>", dom, re.S)
    return m.group(1) if m else ""


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="Debian chromium is not installed")
def test_nothing_executes_in_chromium(hostile_files: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    # Control: the same check sees a script that does run.
    control = tmp_path / "control.html"
    control.write_text("<html><head><title>x</title></head><body><script>document.title='PWNED'</script></body></html>")
    assert _title(dump_dom(control, tmp_path)).strip() == "PWNED"
    for audience, files in hostile_files.items():
        page = tmp_path / f"{audience}.html"
        page.write_bytes(files[f"evidence-{audience}.html"])
        dom = dump_dom(page, tmp_path)
        # A script that ran would have replaced the whole title; the payload shows as text in it.
        title = _title(dom).strip()
        assert title != "PWNED" and "evidence package" in title, audience
        assert not re.search(r"<\s*script", dom, re.IGNORECASE), audience
        assert "<b>bold</b>" not in dom, audience
        assert "<img" not in dom.lower(), audience
