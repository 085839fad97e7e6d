"""A refused PSIRT read is a security event, like every other denial (identity.authorize)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from zonewarden.errors import PermissionDenied
from zonewarden.services import psirt
from zonewarden.services.principal import ANY_SITE, Principal
from zonewarden.store.tables import audit_events


@pytest.mark.parametrize("read", ["list", "products"])
def test_psirt_read_denial_is_recorded(store, read: str) -> None:  # type: ignore[no-untyped-def]
    viewer = Principal(user_id="vic", method="token", client="api", roles={ANY_SITE: frozenset({"viewer"})})
    with pytest.raises(PermissionDenied, match="psirt.read needs one of the roles"):
        if read == "list":
            psirt.list_cases(store, principal=viewer)
        else:
            psirt.products(store, principal=viewer)
    with store.read() as conn:
        rows = conn.execute(select(audit_events.c.actor, audit_events.c.object_id)
                            .where(audit_events.c.action == "access.denied")).all()
    assert [(r.actor, r.object_id) for r in rows] == [("vic", "psirt.read")]
