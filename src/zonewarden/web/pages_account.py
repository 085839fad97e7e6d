"""Login (password, TOTP when enabled; lockout by ``services.identity``), logout, the user's own
password and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from zonewarden.errors import AuthenticationError, ZonewardenError
from zonewarden.services import identity, sessions
from zonewarden.web.errors import message_of
from zonewarden.web.render import page
from zonewarden.web.security import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    Viewer,
    Writer,
    checked_login,
    new_token,
    set_cookie,
    store_of,
)

router = APIRouter()

Text = Annotated[str, Form(max_length=1024)]
OptText = Annotated[str | None, Form(max_length=1024)]


def _safe_next(target: str | None) -> str:
    """Only a path of this server (never ``//evil`` or ``https://...``) is followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_form(request: Request, *, error: str | None = None, status: int = 200, name: str = "") -> Response:
    token = new_token()
    response = page(request, "login.html", None, status=status, csrf=token, error=error, name=name,
                    next=_safe_next(request.query_params.get("next")), title="Log in")
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    return _login_form(request)


@router.post("/login", dependencies=[Depends(checked_login)])
def login(request: Request, name: Annotated[str, Form(max_length=128)], password: Text,
          totp: Annotated[str | None, Form(max_length=16)] = None, next: OptText = None) -> Response:
    try:
        session_id, _ = sessions.login(store_of(request), name, password, totp_code=totp,
                                       user_agent=request.headers.get("user-agent"))
    except AuthenticationError as exc:
        return _login_form(request, error=str(exc), status=401, name=name)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(response, request, COOKIE, session_id, max_age=int(sessions.ABSOLUTE.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, session: Writer) -> Response:
    sessions.logout(store_of(request), request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _account(request: Request, session: sessions.WebSession, *, status: int = 200, **extra: Any) -> Response:
    store = store_of(request)
    tokens = identity.list_tokens(store, session.principal, session.principal.user_id)
    return page(request, "account.html", session, status=status, title="Your account", tokens=tokens,
                **{"message": None, "error": None, "new_token": None, **extra})


@router.get("/account")
def account(request: Request, session: Viewer) -> Response:
    return _account(request, session)


@router.post("/account/password")
def change_password(request: Request, session: Writer, current: Text, new: Text, repeat: Text,
                    totp: Annotated[str | None, Form(max_length=16)] = None) -> Response:
    if new != repeat:
        return _account(request, session, status=422, error="the new password and its repetition differ")
    try:
        sessions.change_password(store_of(request), request.cookies.get(COOKIE) or "", session.principal,
                                 current, new, totp_code=totp)
    except ZonewardenError as exc:
        from zonewarden.web.errors import status_of

        return _account(request, session, status=status_of(exc)[0], error=message_of(exc))
    return _account(request, session, message="password changed; your other sessions have ended")


@router.post("/account/tokens")
def create_token(request: Request, session: Writer, label: Annotated[str | None, Form(max_length=200)] = None,
                 read_only: Annotated[bool, Form()] = False,
                 expires_days: Annotated[int, Form(ge=1, le=3650)] = identity.DEFAULT_TOKEN_DAYS) -> Response:
    try:
        _, token = identity.create_token(store_of(request), session.principal, session.principal.user_id,
                                         read_only=read_only, expires_days=expires_days, label=label or None)
    except ZonewardenError as exc:
        from zonewarden.web.errors import status_of

        return _account(request, session, status=status_of(exc)[0], error=message_of(exc))
    return _account(request, session, new_token=token, message="token created: copy it now, it is not shown again")


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, session: Writer) -> Response:
    identity.revoke_token(store_of(request), session.principal, token_id)
    return _account(request, session, message=f"token {token_id} revoked")
