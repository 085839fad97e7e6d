"""The pages' security base: the session cookie, the CSRF token and Origin check of every
write, and the response headers of every page.

- The cookie ``zw_session`` holds a random id only (the session is a database row), HttpOnly,
  SameSite=Lax (Strict would drop the session when following a link from mail), Secure on TLS.
- Every unsafe request (POST) must come from this origin (``Origin``, else ``Referer``; a request
  with neither is refused) and carry the session's CSRF token in the ``csrf`` form field or the
  ``X-CSRF-Token`` header (htmx sends it, see ``static/app.js``). The login form, before there
  is a session, uses a double-submit cookie.
- Pages get a Content-Security-Policy without inline scripts or styles and ``frame-ancestors
  'none'``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` and
  ``Cache-Control: no-store``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from zonewarden.errors import AuthenticationError, PermissionDenied
from zonewarden.services import sessions
from zonewarden.services.sessions import WebSession
from zonewarden.store.db import Store

COOKIE = "zw_session"
LOGIN_CSRF_COOKIE = "zw_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds :data:`PAGE_HEADERS` to every response outside ``/api/`` (the API's own docs page
    loads its scripts from elsewhere), and ``Cache-Control: no-store`` to pages (not static
    files): a shared computer's back button must not show a plant's data after logout."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        static = path.startswith("/static/")

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                # A downloaded file served sandboxed (an evidence package) keeps its stricter policy.
                sandboxed = [(k, v) for k, v in given if k.lower() == b"content-security-policy"
                             and v.startswith(b"sandbox")]
                headers = [(k, v) for k, v in given if k.lower() not in dict(PAGE_HEADERS)]
                headers += [h for h in PAGE_HEADERS if not (sandboxed and h[0] == b"content-security-policy")]
                headers += sandboxed
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class LoginRequired(Exception):
    """No valid session: a page redirects to the login, an htmx request gets HX-Redirect."""

    def __init__(self, message: str = sessions.SESSION_ENDED) -> None:
        super().__init__(message)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def is_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    trusted = getattr(request.app.state, "web_trust_proxy", False)
    return bool(trusted) and request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"


def own_origin(request: Request) -> str:
    scheme = "https" if is_https(request) else request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    return f"{scheme}://{host}".lower()


def check_origin(request: Request) -> None:
    """Refuse a write from another origin (or one that does not say where it comes from)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        referer = request.headers.get("referer")
        if not referer:
            raise PermissionDenied("this form was not sent from a zonewarden page (no Origin or Referer header)")
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin.lower().rstrip("/") != own_origin(request):
        raise PermissionDenied("this form was sent from another site (its Origin is not this server's)")


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=is_https(request))


def current_session(request: Request) -> WebSession:
    """The logged-in session of the request, else :class:`LoginRequired`."""
    try:
        return sessions.resolve(store_of(request), request.cookies.get(COOKIE))
    except AuthenticationError as exc:
        raise LoginRequired(str(exc)) from None


async def checked_write(request: Request) -> WebSession:
    """The session of a write that passed the Origin and CSRF checks."""
    check_origin(request)
    session = current_session(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise PermissionDenied("the form's security token is missing or out of date: reload the page and try again")
    return session


async def checked_login(request: Request) -> None:
    """The login form: Origin check plus the double-submit token (cookie equals form field)."""
    check_origin(request)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        raise PermissionDenied("the login form's security token is missing or out of date: reload the page")


def new_token() -> str:
    return secrets.token_urlsafe(32)


Viewer = Annotated[WebSession, Depends(current_session)]
Writer = Annotated[WebSession, Depends(checked_write)]
