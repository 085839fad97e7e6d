"""Accounts and credentials: bootstrap admin, argon2 passwords, TOTP, lockout, tokens, roles,
person links, security events in the audit trail, and no secret in any event."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

import orjson
import pyotp
import pytest
from sqlalchemy import select, update

from zonewarden.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
)
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, identity, sites
from zonewarden.services.principal import ANY_SITE, local_principal
from zonewarden.store.identity_tables import api_tokens, users

PW = "correct horse battery"
LOCAL = local_principal()


@pytest.fixture
def site(store, mini_site_file: Path) -> str:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    return "mini"


@pytest.fixture
def admin(store):  # type: ignore[no-untyped-def]
    assert identity.add_user(store, LOCAL, "root", "Rita Root", PW) is True
    return identity.authenticate_password(store, "root", PW)


def _events(store):  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return list(audit.events(conn))


def test_first_account_is_a_bootstrap_admin_and_later_ones_need_user_admin(store, admin) -> None:  # type: ignore[no-untyped-def]
    assert admin.roles_on(None) == frozenset({"admin"}) and admin.method == "password"
    # The local user may no longer create accounts once one exists.
    with pytest.raises(PermissionDenied):
        identity.add_user(store, LOCAL.__class__(user_id="mallory"), "eve", "Eve", PW)
    assert identity.add_user(store, admin, "eng", "Erik Engineer", PW) is False
    eng = identity.authenticate_password(store, "eng", PW)
    assert eng.roles == {}
    with pytest.raises(PermissionDenied, match="user.admin needs one of the roles: admin"):
        identity.add_user(store, eng, "eve", "Eve", PW)
    denied = [e for e in _events(store) if e.action == "access.denied"]
    assert denied and denied[-1].actor == "eng" and denied[-1].after["operation"] == "user.admin"
    with pytest.raises(ConflictError):
        identity.add_user(store, admin, "eng", "Again", PW)
    with pytest.raises(InputError, match="at least 12"):
        identity.add_user(store, admin, "short", "Short", "abc")


def test_password_is_stored_as_argon2id_and_wrong_or_unknown_fail_alike(store, admin) -> None:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == "root")).scalar_one()
    assert stored.startswith("$argon2id$") and PW not in stored
    with pytest.raises(AuthenticationError) as wrong:
        identity.authenticate_password(store, "root", PW + "x")
    with pytest.raises(AuthenticationError) as unknown:
        identity.authenticate_password(store, "nobody", PW)
    assert str(wrong.value) == str(unknown.value) == identity.AUTH_FAILED
    failed = [e for e in _events(store) if e.action == "auth.login-failed"]
    assert [e.actor for e in failed] == ["root", "anonymous"]
    assert failed[1].object_id is None  # a typed unknown name is not recorded


def test_unknown_user_costs_about_as_much_as_a_wrong_password(store, admin) -> None:  # type: ignore[no-untyped-def]
    def timed(name: str) -> float:
        t = time.perf_counter()
        with pytest.raises(AuthenticationError):
            identity.authenticate_password(store, name, "wrong password!!")
        return time.perf_counter() - t

    # Interleaved, median of 5 each; reset the counter so the account does not lock.
    known, unknown = [], []
    for _ in range(4):
        known.append(timed("root"))
        unknown.append(timed("nobody"))
        with store.transaction() as conn:
            conn.execute(update(users).values(failed_attempts=0, locked_until=None))
    ratio = statistics.median(unknown) / statistics.median(known)
    # Without the dummy-hash verification the unknown case is ~100x faster (no argon2 at all).
    assert 0.4 < ratio < 2.5, ratio


def test_lockout_after_max_failures_refuses_even_the_right_password(store, admin) -> None:  # type: ignore[no-untyped-def]
    for _ in range(identity.MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            identity.authenticate_password(store, "root", "not the password")
    with pytest.raises(AuthenticationError):
        identity.authenticate_password(store, "root", PW)
    assert any(e.action == "auth.lockout" and e.actor == "root" for e in _events(store))
    # After the period it works again and the counter starts over.
    with store.transaction() as conn:
        conn.execute(update(users).values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert identity.authenticate_password(store, "root", PW).user_id == "root"


def test_totp_is_required_once_enabled(store, admin) -> None:  # type: ignore[no-untyped-def]
    uri = identity.enable_totp(store, admin, "root")
    assert uri.startswith("otpauth://totp/") and "root" in uri
    secret = pyotp.parse_uri(uri).secret
    with pytest.raises(AuthenticationError):
        identity.authenticate_password(store, "root", PW)
    with pytest.raises(AuthenticationError):
        identity.authenticate_password(store, "root", PW, totp_code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    p = identity.authenticate_password(store, "root", PW, totp_code=pyotp.TOTP(secret).now())
    assert p.method == "totp"


def test_disabled_user_cannot_log_in_nor_use_tokens(store, admin) -> None:  # type: ignore[no-untyped-def]
    identity.add_user(store, admin, "eng", "Erik Engineer", PW)
    _, token = identity.create_token(store, admin, "eng")
    identity.disable_user(store, admin, "eng")
    with pytest.raises(AuthenticationError):
        identity.authenticate_password(store, "eng", PW)
    with pytest.raises(AuthenticationError):
        identity.authenticate_token(store, token)


def test_token_scope_expiry_revocation_and_use_recorded_once_a_day(store, admin, site) -> None:  # type: ignore[no-untyped-def]
    identity.add_user(store, admin, "eng", "Erik Engineer", PW)
    identity.grant_role(store, admin, "eng", "engineer", site)
    token_id, token = identity.create_token(store, admin, "eng", read_only=True, expires_days=3)
    with store.read() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash).where(api_tokens.c.id == token_id)).scalar_one()
    assert token not in stored and len(stored) == 64
    p = identity.authenticate_token(store, token)
    assert p.user_id == "eng" and p.read_only and p.method == "token" and p.roles == {site: frozenset({"engineer"})}
    identity.authenticate_token(store, token)
    identity.authenticate_token(store, token)
    assert [e.action for e in _events(store)].count("token.use") == 1
    [listed] = identity.list_tokens(store, admin, "eng")
    assert listed.last_used_at is not None and listed.state() == "active" and listed.read_only
    # A wrong secret with a real id, a garbage string: the same refusal.
    for bad in (token[:-2] + "xx", "garbage", f"zw_{token_id}_"):
        with pytest.raises(AuthenticationError, match="unknown, expired or revoked"):
            identity.authenticate_token(store, bad)
    with store.transaction() as conn:
        conn.execute(update(api_tokens).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    with pytest.raises(AuthenticationError):
        identity.authenticate_token(store, token)
    _, token2 = identity.create_token(store, admin, "eng")
    eng = identity.authenticate_token(store, token2)
    identity.revoke_token(store, eng, token_id_of(token2))  # own token: no role needed
    with pytest.raises(AuthenticationError):
        identity.authenticate_token(store, token2)


def token_id_of(token: str) -> str:
    tid = identity.token_id_of(token)
    assert tid
    return tid


def test_roles_per_site_and_person_links(store, admin, site) -> None:  # type: ignore[no-untyped-def]
    identity.add_user(store, admin, "ann", "Ann Owner", PW)
    assert identity.grant_role(store, admin, "ann", "asset-owner", site) is True
    assert identity.grant_role(store, admin, "ann", "asset-owner", site) is False
    with pytest.raises(NotFoundError, match="no site 'elsewhere'"):
        identity.grant_role(store, admin, "ann", "viewer", "elsewhere")
    with pytest.raises(InputError, match="not one of"):
        identity.grant_role(store, admin, "ann", "wizard", site)
    with pytest.raises(ConflictError, match="last admin"):
        identity.grant_role(store, admin, "root", "admin", ANY_SITE, grant=False)
    identity.link_person(store, admin, site, "ann", "ann")
    with store.read() as conn:
        assert identity.person_of(conn, site, "ann") == "ann"
        assert identity.person_links(conn, site) == {"ann": "ann"}
    with pytest.raises(NotFoundError):
        identity.link_person(store, admin, site, "nobody", "ann")
    [ann, root] = identity.list_users(store, admin)
    assert ann.roles == {site: ("asset-owner",)} and root.roles == {ANY_SITE: ("admin",)}
    identity.grant_role(store, admin, "ann", "asset-owner", site, grant=False)
    assert identity.authenticate_password(store, "ann", PW).roles == {}


def test_events_carry_the_context_and_no_secret_ever(store, admin, site) -> None:  # type: ignore[no-untyped-def]
    identity.add_user(store, admin, "eng", "Erik Engineer", PW)
    _, token = identity.create_token(store, admin, "eng")
    identity.authenticate_token(store, token, client="api")
    identity.set_password(store, admin, "eng", PW + " new")
    with pytest.raises(AuthenticationError):
        identity.authenticate_password(store, "eng", "wrong wrong wrong")
    uri = identity.enable_totp(store, admin, "eng")
    with store.read() as conn:
        hashes = [r.password_hash for r in conn.execute(select(users.c.password_hash))]
        token_hashes = [r.token_hash for r in conn.execute(select(api_tokens.c.token_hash))]
    evs = _events(store)
    dumped = orjson.dumps([[e.actor, e.object_id, e.reason, e.before, e.after, e.context] for e in evs]).decode()
    for secret in [PW, PW + " new", token, pyotp.parse_uri(uri).secret, *hashes, *token_hashes]:
        assert secret not in dumped
    assert "$argon2" not in dumped
    use = next(e for e in evs if e.action == "token.use")
    assert use.context == {"method": "token", "client": "api"}
    login = next(e for e in evs if e.action == "auth.login")
    assert login.context == {"method": "password", "client": "cli"}
    with store.read() as conn:
        assert audit.verify(conn).ok


def test_principal_for_local_without_accounts_anonymous_without_token(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    assert identity.principal_for(store, None).local
    identity.add_user(store, LOCAL, "root", "Rita Root", PW)
    anon = identity.principal_for(store, None)
    assert not anon.local and anon.roles == {}
    _, token = identity.create_token(store, identity.authenticate_password(store, "root", PW), "root")
    assert identity.principal_for(store, token).user_id == "root"


def test_token_checks_within_a_minute_write_nothing_and_revocation_still_counts(store, admin) -> None:  # type: ignore[no-untyped-def]
    token_id, token = identity.create_token(store, admin, "root")
    identity.authenticate_token(store, token, client="api")
    with store.read() as conn:
        first = conn.execute(select(api_tokens.c.last_used_at).where(api_tokens.c.id == token_id)).scalar()
    events = len(_events(store))
    for _ in range(5):
        assert identity.authenticate_token(store, token, client="api").user_id == "root"
    with store.read() as conn:
        assert conn.execute(select(api_tokens.c.last_used_at).where(api_tokens.c.id == token_id)).scalar() == first
    assert len(_events(store)) == events  # reads stay reads: no row update, no event
    # An older use (over a minute ago) moves last_used_at again.
    with store.transaction() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                     .values(last_used_at=first - dt.timedelta(minutes=2)))
    identity.authenticate_token(store, token, client="api")
    with store.read() as conn:
        assert conn.execute(select(api_tokens.c.last_used_at).where(api_tokens.c.id == token_id)).scalar() > first
    identity.revoke_token(store, admin, token_id)
    with pytest.raises(AuthenticationError):
        identity.authenticate_token(store, token, client="api")
