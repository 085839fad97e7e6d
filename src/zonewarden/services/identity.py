"""Accounts and credentials: users, passwords (argon2id), TOTP, lockout, API tokens, role grants
per site, site people linked to users, and the security events they write.

With no user in the database zonewarden runs in single-user mode (``principal.local_principal``);
the first account is created without a credential and holds ``admin`` on every site (bootstrap).
From then on every call authenticates: a password (plus a TOTP code when enabled) or an API token.

Security events go to the hash-chained audit trail: ``auth.login``, ``auth.login-failed``,
``auth.lockout``, ``access.denied``, ``token.create``, ``token.revoke`` and ``token.use``. A token's
use is recorded once per token per UTC day (the first use); every use updates its ``last_used_at``.
No password, password hash, TOTP secret or token (nor its hash) is ever written to an event.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, func, insert, select, update

from zonewarden.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
)
from zonewarden.services import access, audit
from zonewarden.services.principal import ANY_SITE, Principal
from zonewarden.store.db import Store
from zonewarden.store.identity_tables import api_tokens, person_users, user_roles, users
from zonewarden.store.tables import people, sites

MAX_FAILURES = 5
"""Failed logins in a row after which an account locks."""
LOCKOUT = dt.timedelta(minutes=15)
"""How long a locked account refuses every login, even with the right password."""
MIN_PASSWORD = 12
TOKEN_PREFIX = "zw"
DEFAULT_TOKEN_DAYS = 90

_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown user (same work as a known one), made on first
    use rather than at import: every CLI command imports this module."""
    return _HASHER.hash(secrets.token_urlsafe(24))
"""Verified against when the user does not exist, so an unknown name costs the same time as a
wrong password."""

AUTH_FAILED = (
    "authentication failed: wrong user name, password or code, or the account is disabled or "
    f"locked (an account locks for {int(LOCKOUT.total_seconds() // 60)} minutes after {MAX_FAILURES} failures)"
)
TOKEN_FAILED = "authentication failed: the token is unknown, expired or revoked, or its user is disabled"


@dataclass(frozen=True, slots=True)
class User:
    """A user account as listed (no secrets)."""

    name: str
    full_name: str
    disabled: bool
    totp: bool
    locked_until: dt.datetime | None
    roles: dict[str, tuple[str, ...]]
    """site id (or ``*``) -> roles."""


@dataclass(frozen=True, slots=True)
class Token:
    """An API token as listed (never the secret)."""

    id: str
    user: str
    read_only: bool
    label: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def state(self, now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now(dt.UTC)
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite returns naive datetimes; everything is written in UTC.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def has_accounts(conn: Connection) -> bool:
    """Whether the database holds any user account (if not: single-user mode)."""
    return conn.execute(select(users.c.name).limit(1)).first() is not None


def accounts_exist(store: Store) -> bool:
    with store.read() as conn:
        return has_accounts(conn)


# --- authorization with the denial recorded ---------------------------------------------------


def authorize(store: Store, principal: Principal, operation: str, site_id: str | None = None) -> None:
    """:func:`access.require`, recording a denial as an ``access.denied`` security event (in its
    own transaction, so it stays even though the use case does not run)."""
    try:
        access.require(principal, operation, site_id)
    except PermissionDenied as exc:
        record_denial(store, principal, operation, site_id, str(exc))
        raise


def record_denial(store: Store, principal: Principal, operation: str, site_id: str | None, message: str) -> None:
    with store.transaction() as conn:
        # The denial names the site only if it exists: a typed id is not evidence of anything.
        known = site_id is not None and conn.execute(select(sites.c.id).where(sites.c.id == site_id)).first()
        audit.append(
            conn, action="access.denied", actor=principal.user_id, context=principal.audit_context,
            site_id=site_id if known else None, object_type="operation", object_id=operation,
            after={"operation": operation, "message": message},
        )


# --- principals -------------------------------------------------------------------------------


def _roles(conn: Connection, name: str) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for row in conn.execute(select(user_roles.c.site_id, user_roles.c.role).where(user_roles.c.user_name == name)):
        out.setdefault(row.site_id, set()).add(row.role)
    return {k: frozenset(v) for k, v in out.items()}


def _principal(conn: Connection, row: object, method: str, client: str, read_only: bool = False) -> Principal:
    name = row.name  # type: ignore[attr-defined]
    return Principal(user_id=name, full_name=row.full_name, method=method, client=client,  # type: ignore[attr-defined]
                     roles=_roles(conn, name), read_only=read_only)


def anonymous(client: str = "cli") -> Principal:
    """A caller without a credential while accounts exist: it may do nothing."""
    return Principal(user_id="anonymous", method="none", client=client)


# --- passwords and logins ---------------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters are needed (got {len(password)})")


def _verify_hash(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate_password(
    store: Store, name: str, password: str, *, totp_code: str | None = None, client: str = "cli",
    record_login: bool = True,
) -> Principal:
    """The principal of ``name`` if the password (and the TOTP code, when enabled) is right.

    Every failure raises the same :class:`AuthenticationError` after the same work (an unknown
    user is verified against a dummy hash); each failure counts, and after :data:`MAX_FAILURES`
    the account locks for :data:`LOCKOUT`. Writes ``auth.login`` / ``auth.login-failed`` /
    ``auth.lockout`` events (``record_login=False`` for a re-authentication whose own event the
    caller writes, e.g. a signature)."""
    now = _now()
    with store.transaction() as conn:
        stmt = select(users).where(users.c.name == name)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        ok = _verify_hash(row.password_hash if row else _dummy_hash(), password)
        if row is not None and row.totp_secret:
            ok = pyotp.TOTP(row.totp_secret).verify(totp_code or "", valid_window=1) and ok
        locked = row is not None and row.locked_until is not None and _utc(row.locked_until) > now  # type: ignore[operator]
        if row is not None and ok and not locked and not row.disabled:
            if row.failed_attempts:
                conn.execute(update(users).where(users.c.name == name).values(failed_attempts=0, locked_until=None))
            method = "totp" if row.totp_secret else "password"
            principal = _principal(conn, row, method, client)
            if record_login:
                audit.append(conn, action="auth.login", actor=name, context=principal.audit_context,
                             object_type="user", object_id=name, at=now)
            return principal
    _record_failure(store, name if row is not None else None, client, now, locked=locked)
    raise AuthenticationError(AUTH_FAILED)


def _record_failure(store: Store, user: str | None, client: str, now: dt.datetime, *, locked: bool) -> None:
    with store.transaction() as conn:
        context = {"method": "password", "client": client}
        # The typed name is recorded only when it is an account (a mistyped password in the name
        # field must not end up in the audit trail).
        audit.append(conn, action="auth.login-failed", actor=user or "anonymous", context=context,
                     object_type="user", object_id=user, at=now,
                     after={"known_user": user is not None, "while_locked": locked})
        if user is None or locked:
            return
        conn.execute(update(users).where(users.c.name == user).values(failed_attempts=users.c.failed_attempts + 1))
        failures = conn.execute(select(users.c.failed_attempts).where(users.c.name == user)).scalar_one()
        if failures >= MAX_FAILURES:
            until = now + LOCKOUT
            conn.execute(update(users).where(users.c.name == user).values(locked_until=until, failed_attempts=0))
            audit.append(conn, action="auth.lockout", actor=user, context=context, object_type="user",
                         object_id=user, at=now, after={"failures": failures, "locked_until": until.isoformat()})


# --- accounts ---------------------------------------------------------------------------------


def add_user(store: Store, principal: Principal, name: str, full_name: str, password: str) -> bool:
    """Create an account. With no accounts yet anyone may create the first one, which gets
    ``admin`` on every site (bootstrap); after that it needs ``user.admin``. Returns True for the
    bootstrap account."""
    if not name or len(name) > 128 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InputError(f"user name {name!r}: use letters, digits, '.', '-' or '_' (at most 128)")
    if not full_name.strip():
        raise InputError("full name: required (it is shown with the user's electronic signatures)")
    _check_password(password)
    digest = _HASHER.hash(password)
    # Authorized before the write transaction: a denial is recorded in a transaction of its own,
    # which cannot start while this one holds the write lock.
    if accounts_exist(store):
        authorize(store, principal, "user.admin")
    with store.transaction() as conn:
        bootstrap = not has_accounts(conn)
        if not bootstrap and not access.allowed(principal, "user.admin"):
            # Another process created the first account meanwhile: this is no bootstrap.
            raise PermissionDenied("user.admin needs one of the roles: admin (accounts were created meanwhile)")
        if conn.execute(select(users.c.name).where(users.c.name == name)).first():
            raise ConflictError(f"user {name!r} already exists")
        now = _now()
        conn.execute(insert(users).values(name=name, full_name=full_name.strip(), disabled=False,
                                          password_hash=digest, failed_attempts=0, created_at=now))
        if bootstrap:
            conn.execute(insert(user_roles).values(user_name=name, site_id=ANY_SITE, role="admin"))
        audit.append(conn, action="user.add", actor=principal.user_id, context=principal.audit_context,
                     object_type="user", object_id=name, at=now,
                     after={"name": name, "full_name": full_name.strip(), "bootstrap_admin": bootstrap})
    return bootstrap


def _user_row(conn: Connection, name: str) -> object:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    return row


def list_users(store: Store, principal: Principal) -> list[User]:
    authorize(store, principal, "user.admin")
    with store.read() as conn:
        grants: dict[str, dict[str, list[str]]] = {}
        for g in conn.execute(select(user_roles).order_by(user_roles.c.site_id, user_roles.c.role)):
            grants.setdefault(g.user_name, {}).setdefault(g.site_id, []).append(g.role)
        return [
            User(r.name, r.full_name, bool(r.disabled), bool(r.totp_secret), _utc(r.locked_until),
                 {k: tuple(v) for k, v in grants.get(r.name, {}).items()})
            for r in conn.execute(select(users).order_by(users.c.name))
        ]


def disable_user(store: Store, principal: Principal, name: str, *, disabled: bool = True) -> None:
    """Disable (or enable again) an account; a disabled account's tokens stop working too."""
    authorize(store, principal, "user.admin")
    with store.transaction() as conn:
        _user_row(conn, name)
        conn.execute(update(users).where(users.c.name == name).values(disabled=disabled))
        audit.append(conn, action="user.disable" if disabled else "user.enable", actor=principal.user_id,
                     context=principal.audit_context, object_type="user", object_id=name)


def set_password(store: Store, principal: Principal, name: str, password: str) -> None:
    """Set a password: the user's own, or anyone's with ``user.admin``. Clears a lockout."""
    if principal.user_id != name or principal.local:
        authorize(store, principal, "user.admin")
    elif principal.read_only:
        raise PermissionDenied("a read-only credential cannot change a password")
    _check_password(password)
    digest = _HASHER.hash(password)
    with store.transaction() as conn:
        _user_row(conn, name)
        conn.execute(update(users).where(users.c.name == name)
                     .values(password_hash=digest, failed_attempts=0, locked_until=None))
        audit.append(conn, action="user.passwd", actor=principal.user_id, context=principal.audit_context,
                     object_type="user", object_id=name)


def enable_totp(store: Store, principal: Principal, name: str, *, issuer: str = "zonewarden") -> str:
    """Turn the TOTP second factor on (or renew its secret); returns the otpauth:// URI to scan."""
    if principal.user_id != name or principal.local:
        authorize(store, principal, "user.admin")
    secret = pyotp.random_base32()
    with store.transaction() as conn:
        _user_row(conn, name)
        conn.execute(update(users).where(users.c.name == name).values(totp_secret=secret))
        audit.append(conn, action="user.totp-enable", actor=principal.user_id, context=principal.audit_context,
                     object_type="user", object_id=name)
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def grant_role(store: Store, principal: Principal, name: str, role: str, site_id: str, *, grant: bool = True) -> bool:
    """Grant (or revoke) ``role`` on ``site_id`` (``*``: every site). Returns whether anything changed."""
    if role not in access.ROLES:
        raise InputError(f"role {role!r} is not one of: {', '.join(sorted(access.ROLES))}")
    authorize(store, principal, "user.admin")
    with store.transaction() as conn:
        _user_row(conn, name)
        if site_id != ANY_SITE and conn.execute(select(sites.c.id).where(sites.c.id == site_id)).first() is None:
            raise NotFoundError(f"no site {site_id!r} in the database (use '*' for every site)")
        where = (user_roles.c.user_name == name) & (user_roles.c.site_id == site_id) & (user_roles.c.role == role)
        present = conn.execute(select(user_roles.c.role).where(where)).first() is not None
        if grant == present:
            return False
        if grant:
            conn.execute(insert(user_roles).values(user_name=name, site_id=site_id, role=role))
        else:
            if role == "admin" and site_id == ANY_SITE:
                admins = conn.execute(select(func.count()).select_from(user_roles).where(
                    (user_roles.c.site_id == ANY_SITE) & (user_roles.c.role == "admin"))).scalar_one()
                if admins <= 1:
                    raise ConflictError(f"{name} is the last admin on every site; grant another one first")
            conn.execute(delete(user_roles).where(where))
        audit.append(conn, action="role.grant" if grant else "role.revoke", actor=principal.user_id,
                     context=principal.audit_context, site_id=None if site_id == ANY_SITE else site_id,
                     object_type="user", object_id=name, after={"role": role, "site": site_id})
    return True


def link_person(store: Store, principal: Principal, site_id: str, person_id: str, name: str | None) -> None:
    """Link a person of the site's ``people:`` to a user (``name=None`` removes the link): the
    person whose approvals that user signs."""
    authorize(store, principal, "user.admin")
    with store.transaction() as conn:
        if conn.execute(select(people.c.id).where((people.c.site_id == site_id) & (people.c.id == person_id))).first() is None:
            raise NotFoundError(f"no person {person_id!r} in site {site_id!r}")
        conn.execute(delete(person_users).where((person_users.c.site_id == site_id) & (person_users.c.person_id == person_id)))
        if name is not None:
            _user_row(conn, name)
            conn.execute(insert(person_users).values(site_id=site_id, person_id=person_id, user_name=name))
        audit.append(conn, action="person.link", actor=principal.user_id, context=principal.audit_context,
                     site_id=site_id, object_type="person", object_id=person_id, after={"user": name})


def person_of(conn: Connection, site_id: str, name: str) -> str | None:
    """The person id of ``site_id`` linked to user ``name`` (None if none)."""
    return conn.execute(select(person_users.c.person_id).where(
        (person_users.c.site_id == site_id) & (person_users.c.user_name == name))).scalar()


def person_links(conn: Connection, site_id: str) -> dict[str, str]:
    """person id -> user name for one site."""
    return {r.person_id: r.user_name for r in conn.execute(
        select(person_users.c.person_id, person_users.c.user_name).where(person_users.c.site_id == site_id))}


# --- API tokens -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    store: Store, principal: Principal, name: str, *, read_only: bool = False,
    expires_days: int | None = DEFAULT_TOKEN_DAYS, label: str | None = None,
) -> tuple[str, str]:
    """Create a token for ``name`` (one's own, or anyone's with ``user.admin``); returns
    (token id, token). The token is shown once: only its SHA-256 is stored."""
    if principal.user_id != name or principal.local:
        authorize(store, principal, "user.admin")
    elif principal.read_only and not read_only:
        raise PermissionDenied("a read-only credential can only create read-only tokens")
    if expires_days is not None and expires_days < 1:
        raise InputError(f"expires-days: must be at least 1 (got {expires_days})")
    token_id = secrets.token_hex(8)
    token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    now = _now()
    expires = now + dt.timedelta(days=expires_days) if expires_days is not None else None
    with store.transaction() as conn:
        row = _user_row(conn, name)
        if row.disabled:  # type: ignore[attr-defined]
            raise ConflictError(f"user {name!r} is disabled")
        conn.execute(insert(api_tokens).values(id=token_id, user_name=name, token_hash=_token_hash(token),
                                               read_only=read_only, label=label, created_at=now, expires_at=expires))
        audit.append(conn, action="token.create", actor=principal.user_id, context=principal.audit_context,
                     object_type="token", object_id=token_id, at=now,
                     after={"user": name, "read_only": read_only, "expires_at": expires.isoformat() if expires else None,
                            "label": label})
    return token_id, token


def _token_row(row: object) -> Token:
    r = row
    return Token(r.id, r.user_name, bool(r.read_only), r.label, _utc(r.created_at),  # type: ignore[attr-defined,arg-type]
                 _utc(r.expires_at), _utc(r.revoked_at), _utc(r.last_used_at))  # type: ignore[attr-defined]


def list_tokens(store: Store, principal: Principal, name: str | None = None) -> list[Token]:
    """Tokens of ``name`` (own tokens need no role; all tokens or another's need ``user.admin``)."""
    if name is None or name != principal.user_id or principal.local:
        authorize(store, principal, "user.admin")
    stmt = select(api_tokens).order_by(api_tokens.c.user_name, api_tokens.c.created_at)
    if name is not None:
        stmt = stmt.where(api_tokens.c.user_name == name)
    with store.read() as conn:
        return [_token_row(r) for r in conn.execute(stmt)]


def revoke_token(store: Store, principal: Principal, token_id: str) -> None:
    with store.read() as conn:
        owner = conn.execute(select(api_tokens.c.user_name).where(api_tokens.c.id == token_id)).scalar()
    if owner is None:
        raise NotFoundError(f"no token {token_id!r}")
    if owner != principal.user_id or principal.local:
        authorize(store, principal, "user.admin")  # outside the write transaction (see add_user)
    with store.transaction() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no token {token_id!r}")
        if row.revoked_at is not None:
            return
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=_now()))
        audit.append(conn, action="token.revoke", actor=principal.user_id, context=principal.audit_context,
                     object_type="token", object_id=token_id, after={"user": row.user_name})


def token_id_of(token: str) -> str | None:
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1]:
        return None
    return parts[1]


def authenticate_token(store: Store, token: str, *, client: str = "cli") -> Principal:
    """The principal of a valid token (not expired, not revoked, user enabled), read-only if the
    token is. Updates ``last_used_at`` to the minute; the first use per token per UTC day is a
    ``token.use`` event (so a script calling every minute does not flood the trail).

    Checking is a read: only a use that moves ``last_used_at`` by a minute or more (or starts a
    new day) writes, so concurrent requests with one token do not queue on its row."""
    now = _now()
    token_id = token_id_of(token)
    with store.read() as conn:
        principal, last = _check_token(conn, token, token_id, now, client)
    if last is not None and now - last < USE_RESOLUTION and last.date() == now.date():
        return principal
    with store.transaction() as conn:
        principal, last = _check_token(conn, token, token_id, now, client)  # again: revoked meanwhile?
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))
        if last is None or last.date() != now.date():
            audit.append(conn, action="token.use", actor=principal.user_id, context=principal.audit_context,
                         object_type="token", object_id=token_id, at=now, after={"first_use_today": True})
    return principal


USE_RESOLUTION = dt.timedelta(minutes=1)
"""How closely ``last_used_at`` follows a token's use."""


def _check_token(conn: Connection, token: str, token_id: str | None, now: dt.datetime, client: str,
                 ) -> tuple[Principal, dt.datetime | None]:
    """The principal of a valid token and when it was last used (AuthenticationError otherwise,
    after the same hash comparison whether the token id exists or not)."""
    row = None
    if token_id is not None:  # the token and its user in one read (this runs on every API request)
        row = conn.execute(
            select(api_tokens, users.c.name, users.c.full_name, users.c.disabled)
            .join(users, users.c.name == api_tokens.c.user_name, isouter=True)
            .where(api_tokens.c.id == token_id)).first()
    expected = row.token_hash if row is not None else "0" * 64
    ok = hmac.compare_digest(expected, _token_hash(token.strip())) and row is not None
    if not ok or row is None or row.revoked_at is not None or (row.expires_at and _utc(row.expires_at) <= now):  # type: ignore[operator]
        raise AuthenticationError(TOKEN_FAILED)
    if row.name is None or row.disabled:  # the user removed or disabled
        raise AuthenticationError(TOKEN_FAILED)
    return _principal(conn, row, "token", client, read_only=bool(row.read_only)), _utc(row.last_used_at)


def principal_for(store: Store, token: str | None, *, client: str = "cli") -> Principal:
    """Who the caller is: the local user when there are no accounts, the token's user when a
    token is given, else :func:`anonymous` (it may do nothing: writes need a credential)."""
    from zonewarden.services.principal import local_principal

    if not accounts_exist(store):
        return local_principal(client)
    if token:
        return authenticate_token(store, token, client=client)
    return anonymous(client)


def principal_of_user(store: Store, name: str, *, client: str = "job") -> Principal:
    """The principal of the account ``name`` with its current roles, for work done later on its
    behalf (a queued job, an alert's filter): roles revoked since are not held. The local user
    when there are no accounts. A disabled or removed account raises :class:`PermissionDenied`."""
    from zonewarden.services.principal import local_principal

    with store.read() as conn:
        if not has_accounts(conn):
            return local_principal(client, name)
        row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None or row.disabled:
            raise PermissionDenied(f"the account {name!r} is disabled or no longer exists")
        return _principal(conn, row, "job", client)


def reauthenticate(store: Store, principal: Principal, password: str, totp_code: str | None) -> Principal:
    """Check the signer's password (and TOTP code) again at the moment of signing."""
    fresh = authenticate_password(store, principal.user_id, password, totp_code=totp_code,
                                  client=principal.client, record_login=False)
    return fresh


__all__ = [
    "AUTH_FAILED",
    "LOCKOUT",
    "MAX_FAILURES",
    "Token",
    "User",
    "accounts_exist",
    "add_user",
    "anonymous",
    "authenticate_password",
    "authenticate_token",
    "authorize",
    "create_token",
    "disable_user",
    "enable_totp",
    "grant_role",
    "has_accounts",
    "link_person",
    "list_tokens",
    "list_users",
    "person_links",
    "person_of",
    "principal_for",
    "reauthenticate",
    "record_denial",
    "revoke_token",
    "set_password",
]
