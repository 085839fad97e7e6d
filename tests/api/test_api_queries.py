"""The API's read routes over the query services give what the CLI's ``--format json`` gives for the
same site and day, check the caller's role on the site, and reject malformed parameters with 422."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from zonewarden.cli.main import cli

from .test_api import EXAMPLE, SITE, api, h  # noqa: F401  (the fixture)

AS_OF = "2026-12-01"

CASES = [
    ("gap", ["gap"]),
    ("gap?only_gaps=true&fr=FR5", ["gap", "--only-gaps", "--fr", "FR5"]),
    ("slt", ["slt"]),
    ("risks", ["risks"]),
    ("risks?over_tolerance=true", ["risks", "--over-tolerance"]),
    ("due?within=30d", ["due", "--within", "30d"]),
    ("patch/status", ["patch", "status"]),
    ("patch/plan?solver=greedy&horizon=12w", ["patch", "plan", "--solver", "greedy", "--horizon", "12w", "--workers", "2"]),
]


def _cli_json(args: list[str]) -> object:
    result = CliRunner().invoke(cli, [*args, "--file", str(EXAMPLE), "--as-of", AS_OF, "--format", "json"])
    assert result.exit_code in (0, 1), result.output  # 1: findings over the threshold
    return json.loads(result.stdout)


def _no_time(doc: object) -> object:
    """The generated-at stamp (and a planner's run time) differs between two calls; everything
    else must not."""
    if isinstance(doc, dict):
        return {k: _no_time(v) for k, v in doc.items() if k not in ("generated", "generated_at", "seconds")}
    if isinstance(doc, list):
        return [_no_time(v) for v in doc]
    return doc


@pytest.mark.parametrize(("route", "args"), CASES, ids=[c[0] for c in CASES])
def test_route_gives_what_the_cli_gives(api: TestClient, route: str, args: list[str]) -> None:  # noqa: F811
    sep = "&" if "?" in route else "?"
    path = f"/api/v1/sites/{SITE}/{route}"
    if args[0] != "slt":
        path += f"{sep}as_of={AS_OF}"
    r = api.get(path, headers=h(api, "vic"))
    assert r.status_code == 200, r.text
    expected = _cli_json(args) if args[0] != "slt" else json.loads(
        CliRunner().invoke(cli, ["slt", "--file", str(EXAMPLE), "--format", "json"]).stdout)
    assert _no_time(r.json()) == _no_time(expected)


def test_paths_and_iso27001(api: TestClient) -> None:  # noqa: F811
    r = api.get(f"/api/v1/sites/{SITE}/paths?source=enterprise&target=safety", headers=h(api, "vic"))
    assert r.status_code == 200, r.text
    cli_out = CliRunner().invoke(cli, ["paths", "--file", str(EXAMPLE), "--from", "enterprise", "--to", "safety",
                                       "--format", "json"])
    assert _no_time(r.json()) == _no_time(json.loads(cli_out.stdout))
    iso = api.get(f"/api/v1/sites/{SITE}/gap/iso27001?as_of={AS_OF}", headers=h(api, "vic")).json()
    assert iso["site"] == SITE and sum(iso["counts"].values()) == len(iso["controls"]) > 80


def test_a_caller_without_a_role_on_the_site_gets_404_and_bad_parameters_422(api: TestClient) -> None:  # noqa: F811
    for route in ("gap", "risks", "due", "slt", "patch/status", "risk-method"):
        r = api.get(f"/api/v1/sites/{SITE}/{route}", headers=h(api, "sam"))
        assert r.status_code == 404, (route, r.status_code)
        assert SITE not in json.dumps(r.json()).replace(f"'{SITE}'", "")  or "no site" in r.json()["detail"]
    bad = api.get(f"/api/v1/sites/{SITE}/due?within=ninety", headers=h(api, "vic"))
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    bad_day = api.get(f"/api/v1/sites/{SITE}/gap?as_of=2026-02-30", headers=h(api, "vic"))
    assert bad_day.status_code in (400, 422), bad_day.text
