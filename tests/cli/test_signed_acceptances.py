"""`zonewarden risk accept` and `zonewarden change approve`: electronic signatures from the
command line (accounts), broken by a later edit; plain records in single-user mode."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .test_team_use import EXAMPLE, PASSWORDS, _token, env, run, team  # noqa: F401  (fixtures)

LATER = (dt.date.today() + dt.timedelta(days=300)).isoformat()
WHY = "Isolated behind the cell firewall until the 2027 replacement."


def test_risk_accept_and_change_approve_are_signed_and_broken_by_an_edit(team: Path) -> None:  # noqa: F811
    quinn, vic, eve = _token("quinn"), _token("vic"), _token("eve")
    code, _, err = run("risk", "accept", "R-01", "--rationale", WHY, "--expires", LATER, "--password-stdin",
                       stdin=PASSWORDS["vic"] + "\n", token=vic)
    assert code == 2 and "risk.accept" in err, err
    code, _, err = run("risk", "accept", "R-01", "--rationale", WHY, "--expires", LATER, "--password-stdin",
                       stdin="not my password\n", token=quinn)
    assert code == 2 and "authentication failed" in err
    code, _, err = run("risk", "accept", "R-01", "--rationale", WHY, "--expires", LATER, "--password-stdin",
                       stdin=PASSWORDS["quinn"] + "\n", token=quinn)
    assert code == 0 and "accepted by p-hkessler" in err and "signed by Quinn Quality" in err, err
    code, _, err = run("change", "approve", "CR-2025-07", "--role", "quality", "--password-stdin",
                       stdin=PASSWORDS["quinn"] + "\n", token=quinn)
    assert code == 2 and "does not hold the role 'quality'" in err, err
    code, _, err = run("change", "approve", "CR-2025-07", "--role", "asset-owner", "--meaning", "approved as asset owner",
                       "--password-stdin", stdin=PASSWORDS["quinn"] + "\n", token=quinn)
    assert code == 0 and "approved by p-hkessler as asset-owner" in err, err
    for obj in ("R-01", "CR-2025-07"):
        code, out, _ = run("signatures", "--object", obj, "--format", "json", token=quinn)
        assert code == 0 and [s["status"] for s in json.loads(out)["signatures"]] == ["valid"]
    assert run("change", "edit", "CR-2025-07", "--set", "rollback_plan=Remove the router.", token=eve)[0] == 0
    code, out, _ = run("signatures", "--object", "CR-2025-07", "--format", "json", token=quinn)
    assert code == 1 and json.loads(out)["signatures"][0]["status"] == "no longer matches"


def test_single_user_mode_names_the_person(env: Path) -> None:  # noqa: F811
    assert run("import", str(EXAMPLE))[0] == 0
    code, _, err = run("risk", "accept", "R-01", "--rationale", WHY, "--expires", LATER, "--by", "p-mbrandt")
    assert code == 2 and "p-mbrandt owns risk R-01" in err
    code, _, err = run("risk", "accept", "R-01", "--rationale", WHY, "--expires", "2020-01-01", "--by", "p-hkessler")
    assert code == 2 and "not after today" in err
    code, _, err = run("risk", "accept", "R-01", "--rationale", WHY, "--expires", LATER, "--by", "p-hkessler")
    assert code == 0 and "accepted by p-hkessler" in err and "signed by" not in err, err
