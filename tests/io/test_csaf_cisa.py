"""The real CISA ICS feed (2,035 advisories, 2017-2023) read in lenient and strict mode."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from zonewarden.io.csaf import read_csaf

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def cisa_results(shared_data: Path) -> dict[str, object]:
    root = shared_data / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
    files = sorted(root.glob("*/*.json"))
    return {f.name: read_csaf(f.read_bytes(), source=str(f)) for f in files}


def test_lenient_mode_accepts_every_cisa_advisory(cisa_results: dict) -> None:
    assert len(cisa_results) == 2035
    rejected = [r.error for r in cisa_results.values() if not r.accepted]
    assert rejected == []
    for result in cisa_results.values():
        assert result.tracking_id and result.tracking_version
        assert result.publisher is not None
        assert result.error is None


def test_version_ranges_in_product_version_are_recorded_as_deviations(cisa_results: dict) -> None:
    with_631 = [name for name, r in cisa_results.items() if "6.1.31" in r.test_ids]
    # The data README: about 7% of the documents put ranges into product_version.
    assert 100 <= len(with_631) <= 250
    result = cisa_results["icsa-17-031-01a.json"]
    (dev,) = [d for d in result.deviations if d.test_id == "6.1.31"]
    assert dev.pointer == "/product_tree/branches/0/branches/0/branches/0/name"
    assert "vers:all/*" in dev.message
    node = result.document["product_tree"]["branches"][0]["branches"][0]["branches"][0]
    assert node["category"] == "product_version" and node["name"] == "vers:all/*"


def test_cisa_feed_is_schema_valid_and_only_6_1_31_deviates(cisa_results: dict) -> None:
    # Pins today's picture of the feed so a regression that invents deviations (or a test
    # that stops firing) shows up here.
    counts = Counter(d.test_id for r in cisa_results.values() for d in r.deviations)
    assert set(counts) == {"6.1.31"}


def test_strict_mode_rejects_exactly_the_deviating_advisories(shared_data: Path,
                                                                cisa_results: dict) -> None:
    root = shared_data / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
    sample = sorted(cisa_results)[::25]  # every 25th document keeps the test quick
    for name in sample:
        lenient = cisa_results[name]
        path = root / lenient.document["document"]["tracking"]["initial_release_date"][:4] / name
        if not path.exists():
            path = next(root.glob(f"*/{name}"))
        strict = read_csaf(path.read_bytes(), source=str(path), strict=True)
        assert strict.accepted == (not lenient.deviations)
        assert strict.deviations == lenient.deviations
        if not strict.accepted:
            assert strict.error is not None and str(path) in strict.error
