"""The shared mutation mechanism's batch write (``mutation.apply_many``) on both databases: all
records of a batch in one transaction, one audit event each, nothing left by a failed or killed
write."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.domain.requirements import CompensatingControl
from zonewarden.errors import InputError
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, mutation, sites
from zonewarden.services.principal import local_principal
from zonewarden.services.requirements import record_compensating_controls


@pytest.fixture
def site_id(store, tmp_path: Path, mini_site_file: Path) -> str:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    return "mini"


def control(ident: str, zone: str = "cell") -> CompensatingControl:
    return CompensatingControl.model_validate({
        "id": ident, "title": "Jump host for the cell",
        "description": "Engineering access only through the DMZ jump host with MFA.",
        "covers": ["SR 1.1 RE 1"], "zones": [zone], "rationale": "fixed-vendor-image", "owner": "ann",
        "review": "2027-01-01", "expires": "2027-06-01",
    })


def state(store, site_id: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return sites.revision_of(store, site_id), len(list(audit.events(conn)))


def test_batch_is_one_write_with_one_event_per_record(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    revision, count = state(store, site_id)
    out = record_compensating_controls(store, site_id, [control("CC-1"), control("CC-2"), control("CC-3")],
                                       principal=local_principal(name="ann"), reason="batch",
                                       expected_revision=revision)
    assert [o.object_id for o in out] == ["CC-1", "CC-2", "CC-3"]
    assert [o.audit_seq for o in out] == [out[0].audit_seq + i for i in range(3)]
    after, now = state(store, site_id)
    assert after != revision and now == count + 3


def test_bad_third_record_writes_nothing(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    before = state(store, site_id)
    with pytest.raises(InputError, match=r"^records\[2\]: .*none of the 3 records was written") as exc:
        record_compensating_controls(store, site_id, [control("CC-1"), control("CC-2"), control("CC-3", "nowhere")],
                                     principal=local_principal(name="ann"))
    assert any("nowhere" in p.message for p in exc.value.problems)
    assert state(store, site_id) == before


def test_killed_write_after_the_first_record_leaves_nothing(  # type: ignore[no-untyped-def]
    store, site_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(store, site_id)
    real, seen = audit.append, []

    def killed(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["object_id"])
        if len(seen) == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(mutation.audit, "append", killed)
    with pytest.raises(RuntimeError, match="killed"):
        record_compensating_controls(store, site_id, [control("CC-1"), control("CC-2"), control("CC-3")],
                                     principal=local_principal(name="ann"))
    monkeypatch.setattr(mutation.audit, "append", real)
    assert seen == ["CC-1", "CC-2"]
    assert state(store, site_id) == before
