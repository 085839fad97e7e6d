"""Score the matcher on the labelled evaluation set (``cases.json``, see ``make_cases.py``).

    .venv/bin/python bench/eval_matching/score.py [--cases FILE] [--show N]

Each case is matched alone (one asset, one advisory). The answer is the finding's status:
affected; needs-review; fixed or not-affected, or no finding at all, count as not affected.
Prints the confusion matrix (label x answer), the targets and the cases of every error kind:

* ``affected->not-affected``: the worst error, the plant believes it is safe (target 0);
* not-affected cases answered right (target at least 95 %);
* ``*->needs-review`` beyond the label, as a share of the firm (affected / not affected)
  cases (target at most 10 %).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from zonewarden.domain.advisories import FindingStatus, FlatAdvisory  # noqa: E402
from zonewarden.domain.site import Asset, AssetType  # noqa: E402
from zonewarden.engines.inventory_gaps import is_gap  # noqa: E402
from zonewarden.engines.matching import InventoryIndex, match_advisory  # noqa: E402
from zonewarden.engines.products import flatten_advisory  # noqa: E402

CISA = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data")) / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"
CASES = Path(__file__).with_name("cases.json")
LABELS = ("affected", "not-affected", "needs-review")


@dataclass
class Score:
    matrix: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    kinds: Counter[str] = field(default_factory=Counter)

    def count(self, label: str) -> int:
        return sum(v for (lab, _), v in self.matrix.items() if lab == label)

    @property
    def total(self) -> int:
        return sum(self.matrix.values())

    @property
    def missed_affected(self) -> int:
        return self.matrix[("affected", "not-affected")]

    @property
    def not_affected_right(self) -> float:
        n = self.count("not-affected")
        return self.matrix[("not-affected", "not-affected")] / n if n else 1.0

    @property
    def review_beyond_label(self) -> float:
        firm = self.count("affected") + self.count("not-affected")
        extra = self.matrix[("affected", "needs-review")] + self.matrix[("not-affected", "needs-review")]
        return extra / firm if firm else 0.0

    @property
    def meets_targets(self) -> bool:
        return self.missed_affected == 0 and self.not_affected_right >= 0.95 and self.review_beyond_label <= 0.10


def answer(adv: FlatAdvisory, spec: dict[str, str | None]) -> tuple[str, str]:
    asset = Asset(id="case", name="case", type=AssetType.OTHER, **spec)  # type: ignore[arg-type]
    if is_gap(asset):
        return "needs-review", "inventory gap: vendor without product name or model number"
    found = match_advisory(adv, InventoryIndex([asset]))
    if not found:
        return "not-affected", "no finding"
    f = found[0]
    status = {FindingStatus.AFFECTED: "affected", FindingStatus.NEEDS_REVIEW: "needs-review"}.get(f.status, "not-affected")
    return status, f.message


def score(cases_path: Path = CASES, feed: Path = CISA) -> Score:
    doc = orjson.loads(cases_path.read_bytes())
    flat: dict[str, FlatAdvisory] = {}
    out = Score()
    for case in doc["cases"]:
        ref = case["advisory"]
        if ref not in flat:
            flat[ref] = flatten_advisory(orjson.loads((feed / ref).read_bytes()), source=ref)
        got, message = answer(flat[ref], case["asset"])
        out.matrix[(case["label"], got)] += 1
        out.kinds[case["kind"]] += 1
        if got != case["label"]:
            out.errors[f"{case['label']}->{got}"].append(
                f"{case['id']} [{case['kind']}] {case['asset']} -- label: {case['why']} -- got: {message}"
            )
    return out


def report(s: Score, show: int = 10) -> str:
    lines = [f"{s.total} cases; kinds: {dict(sorted(s.kinds.items()))}", "",
             f"{'label / answer':<16}" + "".join(f"{a:>14}" for a in LABELS) + f"{'total':>8}"]
    for lab in LABELS:
        lines.append(f"{lab:<16}" + "".join(f"{s.matrix[(lab, a)]:>14}" for a in LABELS) + f"{s.count(lab):>8}")
    lines += [
        "",
        f"affected answered not affected: {s.missed_affected} (target 0)",
        f"not-affected cases right: {s.not_affected_right:.1%} (target >= 95%)",
        f"needs-review beyond the label: {s.review_beyond_label:.1%} of the firm cases (target <= 10%)",
        f"targets met: {'yes' if s.meets_targets else 'NO'}",
    ]
    for kind, items in sorted(s.errors.items()):
        lines += ["", f"{kind}: {len(items)}"]
        lines += [f"  {x}" for x in items[:show]]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--show", type=int, default=10, help="cases listed per error kind")
    args = ap.parse_args()
    s = score(args.cases)
    print(report(s, args.show))
    sys.exit(0 if s.meets_targets else 1)


if __name__ == "__main__":
    main()
