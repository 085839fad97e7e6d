"""Rendering pages: one Jinja2 environment with autoescape on (every plant, user and advisory
text is escaped), the templates of ``web/templates``."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from zonewarden import __version__
from zonewarden.services import access
from zonewarden.services.sessions import WebSession


def _url(*parts: object) -> str:
    """A path from parts, each percent-encoded (a site or zone id is text, not a path)."""
    return "/" + "/".join(quote(str(p), safe="") for p in parts)


@functools.cache
def environment() -> jinja2.Environment:
    folder = resources.files("zonewarden.web") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.globals["url"] = _url
    env.globals["version"] = __version__
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v * 100:.0f} %"
    return env


def page(request: Request, template: str, session: WebSession | None, *, status: int = 200,
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render ``template`` for the logged-in ``session`` (None: the login and error pages)."""
    html = environment().get_template(template).render(
        request=request, session=session, principal=session.principal if session else None,
        is_admin=bool(session) and access.allowed(session.principal, "user.admin"),  # type: ignore[union-attr]
        csrf=session.csrf if session else context.pop("csrf", ""), path=request.url.path, **context,
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
