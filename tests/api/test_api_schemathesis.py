"""Property-based tests of the whole API from its OpenAPI document (schemathesis, in-process):
every operation, with generated parameters and bodies, as an administrator. No answer may be a
server error, and every answer must be one the document declares, in the declared media type."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories, identity, sites
from zonewarden.services.principal import local_principal

ROOT = Path(__file__).resolve().parents[2]
PW = "administrator pass"


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from zonewarden.api.app import create_app
    from zonewarden.store.db import open_store

    db = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'zw.db'}"
    store = open_store(db)
    local = local_principal(name="setup")
    sites.import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], principal=local)
    advisories.ingest_bytes(store, advisories.read_items(advisories.iter_paths([ROOT / "examples" / "advisories"])),
                            principal=local)
    identity.add_user(store, local, "ada", "Ada Admin", PW)
    admin = identity.authenticate_password(store, "ada", PW)
    app = create_app(db)
    app.state.test_token = identity.create_token(store, admin, "ada")[1]
    yield app
    store.close()


def test_every_operation_answers_as_documented(api_app) -> None:  # type: ignore[no-untyped-def]
    # Each operation's strategy run by Hypothesis here (schemathesis's pytest loader from a fixture
    # does not work with pytest 9); every failure is collected, so one does not hide the others.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_app)
    headers = {"Authorization": f"Bearer {api_app.state.test_token}"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=checks)

        try:
            run()
        except Exception as exc:  # noqa: BLE001  (reported below, per operation)
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
