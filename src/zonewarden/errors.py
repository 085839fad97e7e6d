"""One base exception, families under it (the httpx pattern).

Interfaces (CLI, API) map these to exit codes and HTTP statuses; nothing below the
interfaces knows about either. Lower-level errors are wrapped with ``raise ... from``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    message: str
    """What is wrong and, where possible, what to do about it."""
    path: tuple[str | int, ...] = ()
    """Field path inside the document, e.g. ``("assets", 5, "zone")``."""
    file: str | None = None
    """The file the problem is in, when the input came from a file."""
    line: int | None = None
    """1-based line, when known."""
    column: int | None = None
    """1-based column, when known."""

    @property
    def pointer(self) -> str:
        """The field path in dotted form: ``assets[5].zone``."""
        out = ""
        for part in self.path:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += ("." if out else "") + str(part)
        return out

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        ptr = self.pointer
        return f"{where}: {ptr + ': ' if ptr else ''}{self.message}"


class ZonewardenError(Exception):
    """Base of every error zonewarden raises on purpose."""


class InputError(ZonewardenError):
    """The user's input is wrong (exit code 2). Carries every problem found, not just the first."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems: list[Problem] = list(problems or [])
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  {p}" for p in self.problems)


class ContentTooLarge(InputError):
    """An upload is over its size limit (HTTP 413 on the pages)."""


class SiteFileError(InputError):
    """A site file (YAML, CSV, InduForm JSON) could not be read or is invalid."""


class NotFoundError(ZonewardenError):
    """A referenced object (site, zone, asset, finding...) does not exist."""


class ConflictError(ZonewardenError):
    """The request contradicts the current state (duplicate, wrong workflow transition)."""


class RateLimited(ConflictError):
    """Too many requests from one client in a period (HTTP 429); the message says when to retry."""


class StaleRevisionError(ConflictError):
    """A write named the revision it edits, and the stored site has moved on since (HTTP 412).
    ``current`` is the revision now stored: read the site again and redo the change on it."""

    def __init__(self, site_id: str, expected: str, current: str) -> None:
        self.site_id, self.expected, self.current = site_id, expected, current
        super().__init__(
            f"site {site_id!r} changed since revision {expected}: it is now at revision {current}; "
            "read it again and redo the change on the current revision"
        )


class PermissionDenied(ZonewardenError):
    """The actor's role does not allow the action (approval rules, segregation of duties)."""


class AuthenticationError(PermissionDenied):
    """No valid credential: wrong or unknown user, password, code or token (HTTP 401). One
    message for every cause, so a caller cannot tell which part was wrong."""


class StoreError(ZonewardenError):
    """The database could not be reached or is not at the expected schema version."""


class AuditChainError(ZonewardenError):
    """The audit log's hash chain is broken: an event was edited, inserted or deleted."""


class InstallationError(ZonewardenError):
    """zonewarden's installation or a tool it needs is broken or missing (packaged catalog data,
    Graphviz): the user's input is fine, but no result can be trusted until the installation is
    fixed."""


class OutputRefused(ZonewardenError):
    """A safety check on generated output refused to write it (a sensitive value in a customer
    package, a promise the evidence cannot back). Nothing was written; it is a zonewarden bug in
    a template, a section or the redaction, to be reported."""


class SourceUnavailable(ZonewardenError):
    """An outside source (a CSAF provider, a download) could not be reached or answered with an
    error; running again later may succeed."""
