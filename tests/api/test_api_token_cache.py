"""The optional token cache of the API: off by default (a revoked token is refused on the next
request); when on, a revoked token works in that process for at most the configured seconds,
and a failed check is never cached."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from zonewarden.api import deps
from zonewarden.services import identity

from .test_api import PW, api, h  # noqa: F401  (the fixture)


def _revoke(api: TestClient, who: str) -> None:  # noqa: F811
    store = api.app.state.store  # type: ignore[attr-defined]
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    token_id = identity.token_id_of(api.tokens[who])  # type: ignore[attr-defined]
    known = {t.id for t in identity.list_tokens(store, admin, who)}
    assert token_id in known, (token_id, known)
    identity.revoke_token(store, admin, token_id)


def test_off_by_default_a_revoked_token_is_refused_at_once(api: TestClient) -> None:  # noqa: F811
    assert deps.TOKEN_CACHE_SECONDS == 0
    assert api.get("/api/v1/whoami", headers=h(api, "vic")).status_code == 200
    _revoke(api, "vic")
    assert api.get("/api/v1/whoami", headers=h(api, "vic")).status_code == 401


def test_when_on_a_revocation_takes_effect_within_the_ttl(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    clock = [1000.0]
    monkeypatch.setattr(deps, "TOKEN_CACHE_SECONDS", 2.0)
    monkeypatch.setattr(deps.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(deps, "_token_cache", {})
    assert api.get("/api/v1/whoami", headers=h(api, "vic")).status_code == 200
    _revoke(api, "vic")
    clock[0] += 1.0
    assert api.get("/api/v1/whoami", headers=h(api, "vic")).status_code == 200  # cached, within 2 s
    clock[0] += 1.5
    assert api.get("/api/v1/whoami", headers=h(api, "vic")).status_code == 401  # checked again: revoked
    bad = {"Authorization": "Bearer zw_0000_nope"}
    assert api.get("/api/v1/whoami", headers=bad).status_code == 401
    assert all(p.user_id != "anonymous" for _, p in deps._token_cache.values())
    assert len(deps._token_cache) == 1  # only the good check was cached (and is now stale)
