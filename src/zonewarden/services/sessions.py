"""Server-side sessions of the web pages: opened by a password (and TOTP) login through
``services.identity``, held in the database, revocable.

A session is valid while it is not revoked, not idle longer than :data:`IDLE`, not older than
:data:`ABSOLUTE`, its user is enabled and the user's password hash is the one it was opened
with. So logging out, disabling the account and changing the password (by any front door: the
CLI's ``user passwd`` too) end it; the roles are read again on every request, so a revoked role
takes effect at once. Nothing is kept in process memory: several workers share the sessions.

``session.open`` / ``session.close`` are security events in the audit trail (never the session
id or its hash).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from zonewarden.errors import AuthenticationError
from zonewarden.services import audit, identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.identity_tables import users
from zonewarden.store.session_tables import web_sessions

IDLE = dt.timedelta(hours=1)
"""A session unused this long ends."""
ABSOLUTE = dt.timedelta(hours=12)
"""No session lives longer than this (a working day), used or not."""
TOUCH_EVERY = dt.timedelta(minutes=1)
"""``last_seen_at`` is written at most this often (a page view is not a write each time)."""

SESSION_ENDED = "your session has ended (logged out, expired, or the account or its password changed): log in again"


@dataclass(frozen=True, slots=True)
class WebSession:
    """A valid session: who it is, and the CSRF token its forms must carry."""

    principal: Principal
    csrf: str
    expires_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _credential(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()


def login(store: Store, name: str, password: str, *, totp_code: str | None = None,
          user_agent: str | None = None) -> tuple[str, WebSession]:
    """Authenticate (lockout, failure events and equal timing are ``identity``'s) and open a
    session; returns (the session id for the cookie, the session)."""
    principal = identity.authenticate_password(store, name, password, totp_code=totp_code or None, client="web")
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    expires = now + ABSOLUTE
    with store.transaction() as conn:
        digest = conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar_one()
        conn.execute(insert(web_sessions).values(
            id_hash=_hash(session_id), user_name=name, csrf=csrf, method=principal.method,
            credential=_credential(digest), created_at=now, last_seen_at=now, expires_at=expires,
            user_agent=(user_agent or "")[:200] or None,
        ))
        audit.append(conn, action="session.open", actor=name, context={"method": principal.method, "client": "web"},
                     object_type="user", object_id=name, at=now)
    return session_id, WebSession(_session_principal(principal), csrf, expires)


def _session_principal(p: Principal) -> Principal:
    return Principal(user_id=p.user_id, full_name=p.full_name, method="session", client="web", roles=p.roles)


def resolve(store: Store, session_id: str | None) -> WebSession:
    """The valid session of a cookie, with the principal built fresh (roles as they are now);
    :class:`AuthenticationError` when there is none."""
    if not session_id:
        raise AuthenticationError(SESSION_ENDED)
    now = _now()
    key = _hash(session_id)
    with store.read() as conn:
        row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == key)).first()
        user = None if row is None else conn.execute(select(users).where(users.c.name == row.user_name)).first()
        if (row is None or user is None or row.revoked_at is not None or user.disabled
                or _utc(row.expires_at) <= now  # type: ignore[operator]
                or _utc(row.last_seen_at) + IDLE <= now  # type: ignore[operator]
                or not hmac.compare_digest(row.credential, _credential(user.password_hash))):
            raise AuthenticationError(SESSION_ENDED)
        principal = identity._principal(conn, user, "session", "web")  # noqa: SLF001 - the one way to build it
        last_seen = _utc(row.last_seen_at)
    if last_seen is not None and now - last_seen >= TOUCH_EVERY:
        with store.transaction() as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == key).values(last_seen_at=now))
    return WebSession(principal, row.csrf, _utc(row.expires_at))  # type: ignore[arg-type]


def logout(store: Store, session_id: str | None) -> None:
    """Revoke the session of this cookie (nothing happens for an unknown or ended one)."""
    if not session_id:
        return
    now = _now()
    with store.transaction() as conn:
        row = conn.execute(select(web_sessions.c.user_name, web_sessions.c.revoked_at)
                           .where(web_sessions.c.id_hash == _hash(session_id))).first()
        if row is None or row.revoked_at is not None:
            return
        conn.execute(update(web_sessions).where(web_sessions.c.id_hash == _hash(session_id)).values(revoked_at=now))
        audit.append(conn, action="session.close", actor=row.user_name, context={"method": "session", "client": "web"},
                     object_type="user", object_id=row.user_name, at=now, after={"reason": "logout"})


def revoke_all(store: Store, principal: Principal, name: str, *, keep: str | None = None) -> int:
    """Revoke every open session of ``name`` (its own, or anyone's with ``user.admin``) except the
    one with id ``keep``; returns how many."""
    if principal.user_id != name or principal.local:
        identity.authorize(store, principal, "user.admin")
    now = _now()
    keep_hash = _hash(keep) if keep else None
    with store.transaction() as conn:
        stmt = update(web_sessions).where((web_sessions.c.user_name == name) & web_sessions.c.revoked_at.is_(None))
        if keep_hash:
            stmt = stmt.where(web_sessions.c.id_hash != keep_hash)
        count = conn.execute(stmt.values(revoked_at=now)).rowcount or 0
        if count:
            audit.append(conn, action="session.close", **principal.audit_fields, object_type="user",
                         object_id=name, at=now, after={"reason": "revoked", "sessions": count})
    return count


def change_password(store: Store, session_id: str, principal: Principal, current: str, new: str,
                    *, totp_code: str | None = None) -> None:
    """The signed-in user changes their own password: the current one is checked again
    (re-authentication), every other session ends, this one carries on."""
    identity.reauthenticate(store, principal, current, totp_code or None)
    identity.set_password(store, principal, principal.user_id, new)
    with store.transaction() as conn:
        digest = conn.execute(select(users.c.password_hash).where(users.c.name == principal.user_id)).scalar_one()
        conn.execute(update(web_sessions).where(web_sessions.c.id_hash == _hash(session_id))
                     .values(credential=_credential(digest)))
    revoke_all(store, principal, principal.user_id, keep=session_id)


__all__ = ["ABSOLUTE", "IDLE", "SESSION_ENDED", "WebSession", "change_password", "login", "logout", "resolve",
           "revoke_all"]
