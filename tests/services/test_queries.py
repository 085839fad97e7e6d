"""Query services: a stored site and the same document in hand give the same data, and a
caller without a role on the site is refused before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.errors import NotFoundError, PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import sites
from zonewarden.services.principal import Principal, local_principal
from zonewarden.services.queries import architecture, gap, risk

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"


@pytest.fixture
def stored(store):  # type: ignore[no-untyped-def]
    doc = load_site(EXAMPLE)
    sites.import_documents(store, [doc], principal=local_principal())
    return store, doc


def test_stored_and_in_hand_give_the_same_dicts(stored) -> None:  # type: ignore[no-untyped-def]
    store, doc = stored
    me = local_principal()
    a = architecture.check(store, principal=me, site_id=None, as_of="2026-12-01")
    b = architecture.check_of(doc, as_of="2026-12-01")
    assert a.as_dict() == b.as_dict() and a.as_dict()["as_of"] == "2026-12-01"
    assert gap.gap(store, principal=me, site_id=doc.site.id, as_of="2026-12-01").as_dict() == \
        gap.gap_of(doc, as_of="2026-12-01").as_dict()
    assert risk.risks(store, principal=me, site_id=None, as_of="2026-12-01").rows() == \
        risk.risks_of(doc, as_of="2026-12-01").rows()


def test_a_caller_without_a_role_is_refused(stored) -> None:  # type: ignore[no-untyped-def]
    store, doc = stored
    stranger = Principal(user_id="mallory", method="token", client="api", roles={"elsewhere": frozenset({"admin"})})
    with pytest.raises((PermissionDenied, NotFoundError)):
        architecture.check(store, principal=stranger, site_id=doc.site.id)
    viewer = Principal(user_id="vera", method="token", client="api", roles={doc.site.id: frozenset({"viewer"})})
    assert architecture.paths(store, principal=viewer, site_id=doc.site.id, source="enterprise",
                              target="control").as_dict()["count"] >= 0
    with pytest.raises(PermissionDenied):
        from zonewarden.services.queries import report

        report.report(store, principal=viewer, site_id=doc.site.id, audience="auditor", formats=["json"])


def test_a_bad_as_of_names_the_option() -> None:
    with pytest.raises(Exception, match="--as-of 'tomorrow' is not a date"):
        architecture.check_of(load_site(EXAMPLE), as_of="tomorrow")
