"""Fixtures for evidence package tests: the example plant and a generated site full of
sensitive values, and rendered packages cached per session (PDF rendering is slow)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
from pathlib import Path
from typing import Any

import pytest

from zonewarden.domain.site import SiteDocument

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 25)


def _load_bench(name: str) -> Any:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"_zw_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_site(n_assets: int = 600, seed: int = 7) -> SiteDocument:
    """bench/synth.py's site plus the bench's governance records, with a sensitive value in every
    sensitive field: serials, e-mails, location, notes everywhere, distinctive asset names."""
    synth = _load_bench("synth")
    bench = _load_bench("bench_report")
    data = bench.enrich(synth.generate(n_assets, seed=seed), seed)
    rnd = random.Random(seed)
    data["site"]["location"] = "Geheimweg 7, 4058 Verborgen"
    for p in data["people"]:
        p["email"] = f"{p['id']}@intern.plant-secret.example"
    for z in data["zones"]:
        z["notes"] = f"Zone note {z['id']}: firewall admin password vault entry ZN-{rnd.randint(10**5, 10**6)}"
    data["zones"][1]["shareable"] = ["notes"]  # notes never go out, shareable or not
    for c in data["conduits"]:
        c["notes"] = f"Conduit note {c['id']}: rule set FW-RULE-{rnd.randint(10**5, 10**6)}"
    for i, a in enumerate(data["assets"]):
        a["name"] = f"Secret asset name {a['id']} {rnd.randint(10**5, 10**6)}"
        a["serial_number"] = f"SER-{rnd.randint(10**7, 10**8)}"
        a["notes"] = f"Asset note {a['id']}: local admin reset code {rnd.randint(10**5, 10**6)}"
        if i % 50 == 0:
            a["hostnames"] = [*a.get("hostnames", []), f"plc{i:05d}.line.internal-secret.example"]
    for r in data["requirements"][:200]:
        r["notes"] = f"Status note {r['target']} {r['requirement']}: audit trail gap ticket {rnd.randint(10**5, 10**6)}"
    for r in data["risks"]:
        r["notes"] = f"Risk note {r['id']}: attack path through maintenance laptop {rnd.randint(10**5, 10**6)}"
    return SiteDocument.model_validate(data)


@pytest.fixture(scope="session")
def example_doc() -> SiteDocument:
    from zonewarden.cli.check import read_site_file

    return read_site_file(ROOT / "examples" / "pharma-plant")


@pytest.fixture(scope="session")
def generated_doc() -> SiteDocument:
    return generated_site()


_CACHE: dict[tuple[str, str, tuple[str, ...]], dict[str, bytes]] = {}


def rendered(doc: SiteDocument, audience: str, formats: tuple[str, ...], key: str) -> dict[str, bytes]:
    """Files of a package, rendered once per session and key."""
    from zonewarden.evidence.builder import build_package, render_package

    cache_key = (key, audience, formats)
    if cache_key not in _CACHE:
        _CACHE[cache_key] = render_package(build_package(doc, audience, AS_OF), formats)
    return _CACHE[cache_key]


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
