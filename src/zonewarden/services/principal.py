"""Who is calling a service.

Every service call that reads or writes takes a :class:`Principal`. The CLI builds a *local*
principal when the database holds no user accounts (single-user mode: the OS user or
``ZONEWARDEN_ACTOR``, everything allowed, as before accounts existed); the API, the web pages and
the CLI with a token build one from an authenticated credential (``services.identity``). The audit
trail records ``user_id`` and ``audit_context``, never a name the caller typed.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict


class AuditFields(TypedDict):
    """Who acted, as ``audit.append`` takes it."""

    actor: str
    context: Mapping[str, str]


ANY_SITE = "*"
"""Key of :attr:`Principal.roles` for a role held on every site (e.g. a global admin)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller (or the single local user when no accounts exist)."""

    user_id: str
    """The id recorded as the actor of audit events: a user account's name, or the OS user in
    local mode, or ``zonewarden`` for the system's own jobs."""
    full_name: str | None = None
    """The person's full name, shown with electronic signatures."""
    method: str = "local"
    """How the caller authenticated: ``local`` (no accounts), ``password``, ``totp``, ``token``,
    ``session`` or ``system``."""
    client: str = "cli"
    """Which front door the call came through: ``cli``, ``api``, ``web`` or ``job``."""
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Roles per site id; the key :data:`ANY_SITE` holds roles on every site."""
    read_only: bool = False
    """A read-only credential (e.g. an API token with the read-only scope): no writes at all."""
    local: bool = False
    """Single-user mode: the database has no accounts, so every operation is allowed."""

    def roles_on(self, site_id: str | None) -> frozenset[str]:
        """The roles this principal holds on ``site_id`` (global roles included)."""
        out = set(self.roles.get(ANY_SITE, frozenset()))
        if site_id is not None:
            out |= self.roles.get(site_id, frozenset())
        return frozenset(out)

    @property
    def audit_context(self) -> dict[str, str]:
        """What the audit trail records beside the actor id: how and through which client."""
        return {"method": self.method, "client": self.client}

    @property
    def audit_fields(self) -> AuditFields:
        """The keyword arguments of ``audit.append`` that say who acted: ``actor`` and ``context``."""
        return AuditFields(actor=self.user_id, context=self.audit_context)


def local_principal(client: str = "cli", name: str | None = None) -> Principal:
    """The single local user: ``name``, else ``ZONEWARDEN_ACTOR`` if set, else the
    operating-system user."""
    name = name or os.environ.get("ZONEWARDEN_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return Principal(user_id=name, method="local", client=client, local=True)


SYSTEM = Principal(user_id="zonewarden", method="system", client="job", local=True)
"""The system's own writes (rematching after a change, scheduled jobs)."""
