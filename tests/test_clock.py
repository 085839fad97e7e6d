"""One meaning of "today" (issue 17.10): the site's date, for every command, also for --as-of."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden import clock
from zonewarden.cli.main import cli

# 23:30 UTC on 1 March is already 2 March in Auckland (UTC+13 in March).
LATE_EVENING_UTC = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def late_evening(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now_utc", lambda: LATE_EVENING_UTC)


@pytest.fixture
def auckland_site(tmp_path: Path, mini_site_text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        mini_site_text.replace("site: {id: mini, name: Mini plant}",
                               "site: {id: mini, name: Mini plant, timezone: Pacific/Auckland}"),
        encoding="utf-8",
    )
    return path


def test_site_today_is_the_sites_date(late_evening: None) -> None:
    assert clock.site_today("Pacific/Auckland") == dt.date(2026, 3, 2)
    assert clock.site_today("America/New_York") == dt.date(2026, 3, 1)
    assert clock.site_today(None) == dt.date(2026, 3, 1)  # no zone: UTC
    # --as-of with an offset is read in the site's zone; a plain date is taken as it is.
    assert clock.site_today("Pacific/Auckland", "2026-03-01T23:30:00Z") == dt.date(2026, 3, 2)
    assert clock.site_today("Pacific/Auckland", "2026-03-01") == dt.date(2026, 3, 1)


def _as_of(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    return str(json.loads(result.stdout)["as_of"])


def test_check_and_gap_use_the_sites_today(late_evening: None, auckland_site: Path) -> None:
    # Before, check and gap took the host's date (1 March here) while risks and due took the site's.
    assert _as_of("check", "--file", str(auckland_site), "--format", "json") == "2026-03-02"
    assert _as_of("gap", "--file", str(auckland_site), "--format", "json") == "2026-03-02"


def test_as_of_with_an_offset_is_read_in_the_sites_zone(auckland_site: Path) -> None:
    # Before, check converted the instant to UTC's date (1 March).
    stamp = "2026-03-01T23:30:00+00:00"
    assert _as_of("check", "--file", str(auckland_site), "--format", "json", "--as-of", stamp) == "2026-03-02"
    assert _as_of("gap", "--file", str(auckland_site), "--format", "json", "--as-of", stamp) == "2026-03-02"


def test_report_uses_the_sites_today(late_evening: None, auckland_site: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--audience", "auditor", "--format", "json", "-o",
                                      str(tmp_path / "out"), "--file", str(auckland_site)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "as of 2026-03-02" in result.stderr and "Pacific/Auckland" in result.stderr


def test_a_bad_as_of_names_the_option(auckland_site: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--file", str(auckland_site), "--as-of", "tomorrow"])
    assert result.exit_code == 2 and "--as-of 'tomorrow' is not a date" in result.stderr


def test_approvals_default_to_the_stored_sites_today(late_evening: None, auckland_site: Path, db_url: str) -> None:
    from zonewarden.services import sites
    from zonewarden.store.db import open_store

    result = CliRunner().invoke(cli, ["import", str(auckland_site)], env={"ZONEWARDEN_DB": db_url},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    store = open_store(db_url)
    try:
        assert sites.site_today(store, "mini") == dt.date(2026, 3, 2)
    finally:
        store.close()
