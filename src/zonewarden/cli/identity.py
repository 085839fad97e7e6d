"""Who runs a command, and the commands that manage people: ``login``, ``logout``, ``whoami``,
``user``, ``role`` and ``token``.

With no user accounts in the database every command runs as the single local user (the OS user
or ``ZONEWARDEN_ACTOR``), as before accounts existed. Once an account exists, every command
needs a credential: ``zonewarden login`` stores a token for the user (file mode 0600), or
``ZONEWARDEN_TOKEN`` gives one. The audit trail then records the authenticated user, how they
authenticated and that the call came through the CLI.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zonewarden.cli.common import (
    caller,
    db_option,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
)
from zonewarden.errors import AuthenticationError, InputError
from zonewarden.services.principal import Principal, local_principal

if TYPE_CHECKING:
    from zonewarden.services.signatures import Signing

DEFAULT_TOKEN_DAYS = 90  # services.identity.DEFAULT_TOKEN_DAYS (not imported: argon2 loads late)

TOKEN_ENV = "ZONEWARDEN_TOKEN"


def _identity():  # type: ignore[no-untyped-def]
    """The identity service, imported when a command needs it (argon2 need not load for others)."""
    from zonewarden.services import identity

    return identity


def token_file() -> Path:
    """Where ``login`` keeps the token: ``ZONEWARDEN_TOKEN_FILE``, else
    ``$XDG_CONFIG_HOME/zonewarden/token`` (``~/.config/zonewarden/token``)."""
    explicit = os.environ.get("ZONEWARDEN_TOKEN_FILE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "zonewarden" / "token"


def _stored_token() -> str | None:
    token = os.environ.get(TOKEN_ENV)
    if token:
        return token.strip()
    path = token_file()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the stored token ({exc.strerror})") from None
    return text or None


def current_principal(store: object, client: str = "cli") -> Principal:
    """The caller of a command: the local user when the database has no accounts, else the
    user of the token (``ZONEWARDEN_TOKEN`` or the one ``login`` stored).

    Raises :class:`AuthenticationError` when accounts exist and no valid credential is given."""
    if not _identity().accounts_exist(store):  # type: ignore[arg-type]
        return local_principal(client)
    token = _stored_token()
    if not token:
        raise AuthenticationError(
            "this database has user accounts: log in first (`zonewarden login USER`) or set ZONEWARDEN_TOKEN"
        )
    return _identity().authenticate_token(store, token, client=client)  # type: ignore[arg-type]


def read_secret(prompt: str, from_stdin: bool) -> str:
    """A password from one line of stdin (scripts) or typed at a prompt without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password: give it with --password-stdin")
    return getpass.getpass(prompt)


def signing_for(principal: Principal, password_stdin: bool, totp: str | None, meaning: str | None) -> Signing | None:
    """The signer's re-authentication, asked for only when the approval is signed (accounts)."""
    from zonewarden.services.signatures import Signing

    if principal.local:
        return None
    password = read_secret(f"Password of {principal.user_id} (to sign): ", password_stdin)
    return Signing(password=password, totp=totp, meaning=meaning)


# --- login ------------------------------------------------------------------------------------


@click.command("login")
@click.argument("user")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--totp", default=None, metavar="CODE", help="The current code of the second factor, if enabled.")
@click.option("--expires-days", type=click.IntRange(min=1), default=DEFAULT_TOKEN_DAYS, show_default=True,
              help="Validity of the stored token.")
@db_option
@handle_errors
def login_cmd(user: str, password_stdin: bool, totp: str | None, expires_days: int, db_url: str | None) -> None:
    """Authenticate and store a token for later commands (file mode 0600).

    \b
    Example:
      zonewarden login clara
      printf '%s\n' "$PW" | zonewarden login ci-bot --password-stdin --expires-days 1
    """
    store = open_store_for(db_url)
    password = read_secret(f"Password of {user}: ", password_stdin)
    principal = _identity().authenticate_password(store, user, password, totp_code=totp, client="cli")
    _, token = _identity().create_token(store, principal, user, expires_days=expires_days, label="cli login")
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(token + "\n")
    note(f"logged in as {principal.user_id} ({principal.full_name}); token stored in {path}")


@click.command("logout")
@db_option
@handle_errors
def logout_cmd(db_url: str | None) -> None:
    """Revoke the stored token and remove it.

    \b
    Example:
      zonewarden logout
    """
    path = token_file()
    token = _stored_token() if path.exists() else None
    if token:
        store = open_store_for(db_url)
        token_id = _identity().token_id_of(token)
        try:
            principal = _identity().authenticate_token(store, token)
            if token_id:
                _identity().revoke_token(store, principal, token_id)
        except AuthenticationError:
            pass  # already expired or revoked: removing the file is all that is left
        path.unlink()
        note("logged out: the stored token is revoked and removed")
    else:
        note("not logged in (no stored token)")


@click.command("whoami")
@db_option
@format_option("table", "json")
@handle_errors
def whoami_cmd(db_url: str | None, fmt: str) -> None:
    """Show who commands run as, how they authenticated and the roles per site.

    \b
    Example:
      zonewarden whoami --format json
    """
    _, p = caller(db_url)
    rows = [{"user": p.user_id, "full_name": p.full_name, "method": p.method, "read_only": p.read_only,
             "single_user": p.local, "site": site, "roles": sorted(roles)} for site, roles in sorted(p.roles.items())]
    if not rows:
        rows = [{"user": p.user_id, "full_name": p.full_name, "method": p.method, "read_only": p.read_only,
                 "single_user": p.local, "site": "*" if p.local else "", "roles": ["all (single-user mode)"]
                 if p.local else []}]
    emit_rows(rows, ["user", "full_name", "method", "read_only", "site", "roles"], fmt, title="Who am I")


# --- users ------------------------------------------------------------------------------------


@click.group("user")
def user_group() -> None:
    """User accounts (the first account created becomes the administrator)."""


@user_group.command("add")
@click.argument("name")
@click.option("--full-name", required=True, help="The person's full name (shown with their signatures).")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@db_option
@handle_errors
def user_add(name: str, full_name: str, password_stdin: bool, db_url: str | None) -> None:
    """Create a user account. The first account becomes the administrator of every site; from
    then on every command needs a credential (`zonewarden login`).

    \b
    Example:
      zonewarden user add clara --full-name "Clara Weiss"
      printf '%s\n' "$PW" | zonewarden user add hkessler --full-name "Hanna Kessler" --password-stdin
    """
    store, principal = caller(db_url)  # the local user until the first account exists
    password = read_secret(f"New password for {name}: ", password_stdin)
    if not password_stdin and read_secret("Repeat it: ", False) != password:
        raise InputError("the two passwords differ; nothing was changed")
    bootstrap = _identity().add_user(store, principal, name, full_name, password)
    note(f"user {name} added" + (" as the administrator of every site (the first account)" if bootstrap else ""))
    if bootstrap:
        note("from now on every command needs a credential: `zonewarden login " + name + "`")


@user_group.command("list")
@db_option
@format_option("table", "json", "csv")
@handle_errors
def user_list(db_url: str | None, fmt: str) -> None:
    """List user accounts with their roles (needs the admin role).

    \b
    Example:
      zonewarden user list --format json
    """
    store, principal = caller(db_url)
    rows = [
        {"name": u.name, "full_name": u.full_name, "disabled": u.disabled, "totp": u.totp,
         "roles": [f"{role}@{site}" for site, roles in sorted(u.roles.items()) for role in sorted(roles)],
         "locked_until": u.locked_until.isoformat(timespec="seconds") if u.locked_until else None}
        for u in _identity().list_users(store, principal)
    ]
    emit_rows(rows, ["name", "full_name", "disabled", "totp", "roles", "locked_until"], fmt, title="Users")


@user_group.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@db_option
@handle_errors
def user_disable(name: str, enable: bool, db_url: str | None) -> None:
    """Disable an account: its password and tokens stop working at once.

    \b
    Example:
      zonewarden user disable jdoe
      zonewarden user disable jdoe --enable
    """
    store, principal = caller(db_url)
    _identity().disable_user(store, principal, name, disabled=not enable)
    note(f"user {name} {'enabled' if enable else 'disabled'}")


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@db_option
@handle_errors
def user_passwd(name: str, password_stdin: bool, db_url: str | None) -> None:
    """Set a new password (one's own, or anyone's as admin); clears a lockout.

    \b
    Example:
      zonewarden user passwd clara
    """
    store, principal = caller(db_url)
    password = read_secret(f"New password for {name}: ", password_stdin)
    _identity().set_password(store, principal, name, password)
    note(f"password of {name} changed")


@user_group.command("totp")
@click.argument("name")
@db_option
@handle_errors
def user_totp(name: str, db_url: str | None) -> None:
    """Turn on the TOTP second factor; prints the provisioning URI (for an authenticator app).

    \b
    Example:
      zonewarden user totp clara
    """
    store, principal = caller(db_url)
    uri = _identity().enable_totp(store, principal, name)
    click.echo(uri)
    note("scan this URI with an authenticator app; logins and signatures now ask for --totp CODE")


@user_group.command("link")
@click.argument("name")
@click.argument("person")
@click.option("--site", "site_id", required=True, metavar="SITE", help="The site whose `people:` entry it is.")
@db_option
@handle_errors
def user_link(name: str, person: str, site_id: str, db_url: str | None) -> None:
    """Link a user to a person of a site's `people:` (whom their approvals are recorded for).

    \b
    Example:
      zonewarden user link hkessler p-hkessler --site rheinfeld
    """
    store, principal = caller(db_url)
    _identity().link_person(store, principal, site_id, person, name)
    note(f"user {name} is person {person} of site {site_id}")


# --- roles ------------------------------------------------------------------------------------


@click.group("role")
def role_group() -> None:
    """Roles of users, per site (viewer, auditor, engineer, approver roles, customer, admin)."""


def _grant(name: str, role: str, site_id: str, db_url: str | None, grant: bool) -> None:
    store, principal = caller(db_url)
    changed = _identity().grant_role(store, principal, name, role, site_id, grant=grant)
    verb = "granted" if grant else "revoked"
    note(f"role {role} on {site_id} {verb} for {name}" if changed else f"nothing to do: {name} already so")


@role_group.command("grant")
@click.argument("name")
@click.argument("role")
@click.option("--site", "site_id", required=True, metavar="SITE", help="The site (or '*' for every site).")
@db_option
@handle_errors
def role_grant(name: str, role: str, site_id: str, db_url: str | None) -> None:
    """Give a user a role on a site.

    \b
    Example:
      zonewarden role grant hkessler quality --site rheinfeld
      zonewarden role grant audit-firm auditor --site '*'
    """
    _grant(name, role, site_id, db_url, True)


@role_group.command("revoke")
@click.argument("name")
@click.argument("role")
@click.option("--site", "site_id", required=True, metavar="SITE", help="The site (or '*').")
@db_option
@handle_errors
def role_revoke(name: str, role: str, site_id: str, db_url: str | None) -> None:
    """Take a role on a site away from a user.

    \b
    Example:
      zonewarden role revoke jdoe engineer --site rheinfeld
    """
    _grant(name, role, site_id, db_url, False)


# --- tokens -----------------------------------------------------------------------------------


@click.group("token")
def token_group() -> None:
    """API tokens (stored hashed; shown once when created)."""


@token_group.command("create")
@click.option("--user", "name", default=None, metavar="NAME", help="Whose token (default: your own).")
@click.option("--read-only", is_flag=True, help="A token that may read but never write.")
@click.option("--expires-days", type=click.IntRange(min=1), default=DEFAULT_TOKEN_DAYS, show_default=True)
@click.option("--label", default=None, metavar="TEXT", help="What the token is for (e.g. 'nightly export').")
@db_option
@handle_errors
def token_create(name: str | None, read_only: bool, expires_days: int, label: str | None, db_url: str | None) -> None:
    """Create a token; prints the token alone on stdout (it is not shown again).

    \b
    Example:
      zonewarden token create --user ci-bot --read-only --expires-days 30 --label "nightly export"
    """
    store, principal = caller(db_url)
    owner = name or principal.user_id
    token_id, token = _identity().create_token(store, principal, owner, read_only=read_only,
                                            expires_days=expires_days, label=label)
    click.echo(token)
    note(f"token {token_id} for {owner}" + (" (read-only)" if read_only else "") + f", valid {expires_days} days")


@token_group.command("list")
@click.option("--user", "name", default=None, metavar="NAME", help="Only this user's tokens.")
@db_option
@format_option("table", "json", "csv")
@handle_errors
def token_list(name: str | None, db_url: str | None, fmt: str) -> None:
    """List tokens (never their secret).

    \b
    Example:
      zonewarden token list --user ci-bot
    """
    store, principal = caller(db_url)
    if name is None and not principal.local and "admin" not in principal.roles_on(None):
        name = principal.user_id

    def stamp(value: object) -> str | None:
        return value.isoformat(timespec="seconds") if value is not None else None  # type: ignore[attr-defined]

    rows = [{"id": t.id, "user": t.user, "read_only": t.read_only, "label": t.label, "created": stamp(t.created_at),
             "expires": stamp(t.expires_at), "revoked": stamp(t.revoked_at), "last_used": stamp(t.last_used_at)}
            for t in _identity().list_tokens(store, principal, name)]
    emit_rows(rows, ["id", "user", "read_only", "label", "created", "expires", "revoked", "last_used"], fmt,
              title="Tokens")


@token_group.command("revoke")
@click.argument("token_id")
@db_option
@handle_errors
def token_revoke(token_id: str, db_url: str | None) -> None:
    """Revoke a token: it stops working at once.

    \b
    Example:
      zonewarden token revoke 3f9c2a7b1d0e4c56
    """
    store, principal = caller(db_url)
    _identity().revoke_token(store, principal, token_id)
    note(f"token {token_id} revoked")


commands = [login_cmd, logout_cmd, whoami_cmd, user_group, role_group, token_group]
