"""The web pages: server-rendered (Jinja2, htmx for partial updates), on the same services and
the same policy as the API, with the logged-in user's :class:`~zonewarden.services.principal.Principal`.

``mount(app)`` adds them to the API's FastAPI application (one line in ``create_app``): pages
at ``/``, static files (htmx vendored in the package, the stylesheet) at ``/static``. Sessions
live in the database (``services.sessions``); every form and htmx request carries a CSRF token
and passes an Origin check; every page is served with a strict Content-Security-Policy.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from fastapi import FastAPI

STATIC = resources.files("zonewarden.web") / "static"

PAGES: tuple[tuple[str, str], ...] = (
    ("login", "/login"),
    ("dashboard", "/"),
    ("site", "/sites/{site}"),
    ("zone", "/sites/{site}/zones/{zone}"),
    ("conduit", "/sites/{site}/conduits/{conduit}"),
    ("risks", "/sites/{site}/risks"),
    ("due", "/sites/{site}/due"),
    ("patching", "/sites/{site}/patching"),
    ("evidence", "/sites/{site}/evidence"),
    ("paths", "/sites/{site}/paths?source=ext&target=qc-lab"),
    ("findings", "/findings"),
    ("finding", "/findings/{finding}"),
    ("advisories", "/advisories"),
    ("advisory", "/advisories/{advisory}"),
    ("asset", "/sites/{site}/assets/{asset}"),
    ("approvals", "/approvals"),
    ("audit", "/audit"),
    ("admin", "/admin"),
    ("account", "/account"),
)
"""Every page (name, path pattern): ``scripts/screenshots.sh`` renders each to
``docs/screenshots/<name>.png`` and a test checks that they are all there."""


def mount(app: FastAPI, *, trust_forwarded_proto: bool | None = None) -> None:
    """Add the web pages to ``app`` (whose ``state.store`` is the process's store).

    ``trust_forwarded_proto``: believe ``X-Forwarded-Proto: https`` from a TLS-terminating proxy
    (default: the ``ZONEWARDEN_TRUST_PROXY=1`` environment variable); only then, or on a direct
    TLS connection, are cookies marked Secure."""
    from fastapi.staticfiles import StaticFiles

    from zonewarden.errors import ZonewardenError
    from zonewarden.web import (
        errors,
        pages_account,
        pages_admin,
        pages_advisories,
        pages_evidence,
        pages_findings,
        pages_home,
        pages_paths,
        pages_plans,
        pages_site,
        pages_uploads,
    )
    from zonewarden.web.security import SecurityHeaders

    if trust_forwarded_proto is None:
        trust_forwarded_proto = os.environ.get("ZONEWARDEN_TRUST_PROXY", "") == "1"
    app.state.web_trust_proxy = trust_forwarded_proto
    for module in (pages_account, pages_home, pages_site, pages_plans, pages_findings, pages_admin,
                   pages_evidence, pages_uploads, pages_paths):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(pages_advisories.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    api_handler: Any = app.exception_handlers.get(ZonewardenError)
    errors.install(app, api_handler)
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]


__all__ = ["PAGES", "mount"]
