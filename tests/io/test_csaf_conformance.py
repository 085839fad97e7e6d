"""Conformance with the OASIS CSAF TC's validator test files (csaf_2.0/test/validator/data).

For every mandatory test we implement: each file listed under ``failures`` (numbered 01-09)
must be rejected in strict mode with that test id, and each file under ``valid`` (11-19) must
be accepted with no deviation at all - the valid examples are complete documents, so this also
proves the schema and every other test raise no false alarm on them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from zonewarden.io.csaf import implemented_test_ids, read_csaf

pytestmark = pytest.mark.shared


def _cases(shared_data: Path) -> tuple[Path, list[dict]]:
    base = shared_data / "csaf" / "oasis" / "csaf_2.0" / "test" / "validator" / "data"
    cases = json.loads((base / "testcases.json").read_text(encoding="utf-8"))["tests"]
    return base, [c for c in cases if c["group"] == "mandatory"]


def test_every_mandatory_test_of_the_suite_is_implemented(shared_data: Path) -> None:
    _, cases = _cases(shared_data)
    listed = {c["id"] for c in cases}
    missing = sorted(listed - set(implemented_test_ids()))
    # The list of ids we do not implement is documented in docs/csaf-validation.md; keep the
    # two in step. Today it is empty.
    print("mandatory tests not implemented:", missing or "none")
    assert missing == []
    assert len(listed) == 43


def test_conformance_rate_is_100_percent_per_test_id(shared_data: Path) -> None:
    base, cases = _cases(shared_data)
    implemented = set(implemented_test_ids())
    passed: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    failures: list[str] = []
    for case in cases:
        test_id = case["id"]
        if test_id not in implemented:
            continue
        for kind in ("failures", "valid"):
            for entry in case.get(kind, []):
                path = base / entry["name"]
                result = read_csaf(path.read_bytes(), source=entry["name"], strict=True)
                if kind == "failures":
                    ok = not result.accepted and test_id in result.test_ids
                    why = f"expected rejection by {test_id}, got {sorted(result.test_ids)}"
                else:
                    ok = result.accepted and not result.deviations
                    why = f"expected no deviation, got {[str(d) for d in result.deviations]}"
                total[test_id] += 1
                if ok:
                    passed[test_id] += 1
                else:
                    failures.append(f"{entry['name']}: {why}")
    rates = {t: passed[t] / total[t] for t in total}
    print("conformance per test id:", {t: f"{passed[t]}/{total[t]}" for t in sorted(total)})
    assert set(rates) == implemented
    assert sum(total.values()) >= 140  # the suite has 144 mandatory cases
    assert failures == []
    assert all(rate == 1.0 for rate in rates.values())


def test_failing_examples_point_at_the_offending_value(shared_data: Path) -> None:
    base, cases = _cases(shared_data)
    # Spot checks that the pointer names the value an author has to fix.
    expected = {
        "6.1.1": "/product_tree/product_groups/0/product_ids/1",
        "6.1.31": "/product_tree/branches/0/branches/0/branches/0/name",
    }
    for case in cases:
        if case["id"] not in expected:
            continue
        entry = case["failures"][0]
        result = read_csaf((base / entry["name"]).read_bytes(), source=entry["name"], strict=True)
        pointers = {d.pointer for d in result.deviations if d.test_id == case["id"]}
        assert expected[case["id"]] in pointers, (entry["name"], pointers)
        assert result.error is not None and entry["name"] in result.error
