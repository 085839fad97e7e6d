"""The labelled evaluation set (bench/eval_matching) meets the matching targets of issue 14."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import orjson
import pytest

EVAL = Path(__file__).resolve().parents[2] / "bench" / "eval_matching"
CISA = "csaf/cisa-ics/csaf_files/OT/white"


def _scorer():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("eval_score", EVAL / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_set_is_big_enough_and_every_label_is_justified() -> None:
    cases = orjson.loads((EVAL / "cases.json").read_bytes())["cases"]
    assert len(cases) >= 300
    assert {c["label"] for c in cases} == {"affected", "not-affected", "needs-review"}
    for c in cases:
        assert c["why"] and "\n" not in c["why"], c["id"]
        assert c["advisory"].endswith(".json") and c["asset"]["vendor"], c["id"]
    assert len({c["id"] for c in cases}) == len(cases)


@pytest.mark.shared
def test_scorer_meets_the_targets(shared_data: Path) -> None:
    scorer = _scorer()
    score = scorer.score(EVAL / "cases.json", shared_data / CISA)
    text = scorer.report(score, 20)
    assert score.total >= 300
    assert score.missed_affected == 0, text
    assert score.not_affected_right >= 0.95, text
    assert score.review_beyond_label <= 0.10, text


def test_scorer_counts_errors_by_kind() -> None:
    scorer = _scorer()
    s = scorer.Score()
    s.matrix[("affected", "not-affected")] += 1
    s.matrix[("not-affected", "not-affected")] += 19
    s.matrix[("not-affected", "affected")] += 1
    s.matrix[("affected", "affected")] += 5
    assert s.missed_affected == 1 and not s.meets_targets and s.not_affected_right == 0.95
    assert "affected answered not affected: 1" in scorer.report(s)
