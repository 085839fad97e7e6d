"""The sample packages in docs/sample are what the current code produces: a user reading the
docs sees real output, not a stale one. scripts/sample-packages.sh regenerates them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli

from .conftest import ROOT

SAMPLE = ROOT / "docs" / "sample"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The steps of scripts/sample-packages.sh, minus the PDFs (their bytes depend on the
    # machine's fonts; the PDF tests check their content).
    tmp = tmp_path_factory.mktemp("sample")
    db = f"sqlite:///{tmp / 'sample.db'}"
    runner = CliRunner(env={"ZONEWARDEN_ACTOR": "sample"})
    for args in (
        ["import", str(ROOT / "examples" / "pharma-plant")],
        ["advisories", "ingest", str(ROOT / "examples" / "advisories")],
        ["report", "--audience", "auditor", "--format", "html", "-o", str(tmp / "auditor"), "--as-of", "2026-11-25"],
        ["report", "--audience", "customer", "--format", "html", "--format", "json", "-o", str(tmp / "customer"),
         "--as-of", "2026-11-25"],
    ):
        result = runner.invoke(cli, [*args, "--db", db])
        assert result.exit_code == 0, result.output
    return tmp


@pytest.mark.parametrize(
    "name", ["auditor/evidence-auditor.html", "customer/evidence-customer.html", "customer/evidence-customer.json"]
)
def test_docs_sample_is_current(built: Path, name: str) -> None:
    fresh = (built / name).read_bytes()
    assert fresh == (SAMPLE / name).read_bytes(), (
        f"docs/sample/{name} is stale: run `bash scripts/sample-packages.sh` and commit the result"
    )
