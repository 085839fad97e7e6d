"""Separation of duties holds for records written into a site file, not only for commands: the
owner of a change, a risk, a compensating control or an exception does not approve it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.io.sitefile import load_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"


def _example() -> dict[str, Any]:
    return load_site(EXAMPLE).model_dump(mode="json", exclude_none=True)


def _problems(data: dict[str, Any]) -> dict[str, str]:
    doc = SiteDocument.model_validate(data, context={"defer_references": True})
    return {p.pointer: p.message for p in reference_problems(doc)}


def test_the_example_plant_keeps_separation_of_duties() -> None:
    assert not [m for m in _problems(_example()).values() if "separation of duties" in m]


def _first(rows: list[dict[str, Any]], has: str) -> int:
    return next(i for i, r in enumerate(rows) if r.get(has))


@pytest.mark.parametrize("section", ["changes", "patch_changes", "risks", "compensating_controls", "exceptions"])
def test_an_owner_approving_their_own_record_is_named_with_its_path(section: str) -> None:
    data = _example()
    rows = data[section]
    if section in ("changes", "patch_changes"):
        i = _first(rows, "approvals")
        rows[i]["approvals"][0]["by"] = rows[i]["owner"]
        pointer = f"{section}[{i}].approvals[0].by"
    elif section == "risks":
        i = _first(rows, "acceptance")
        rows[i]["acceptance"]["by"] = rows[i]["owner"]
        pointer = f"risks[{i}].acceptance.by"
    else:
        if not rows:
            pytest.skip(f"the example plant has no {section}")
        i = _first(rows, "approver")
        rows[i]["approver"] = rows[i]["owner"]
        pointer = f"{section}[{i}].approver"
    problems = _problems(data)
    assert pointer in problems, problems
    assert "separation of duties" in problems[pointer]
    assert rows[i]["id"] in problems[pointer]
