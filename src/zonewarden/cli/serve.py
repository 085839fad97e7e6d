"""``zonewarden serve``: the REST API and the web pages over HTTP."""

from __future__ import annotations

import os

import click

from zonewarden.cli.common import db_option, handle_errors, note


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (they share nothing but the database).")
@db_option
@handle_errors
def serve_cmd(host: str, port: int, workers: int, db_url: str | None) -> None:
    """Serve the REST API under /api/v1 (OpenAPI document at /api/v1/openapi.json) and the
    web pages at / (log in with a user account; docs/web.md).

    Callers authenticate with `Authorization: Bearer <token>` (`zonewarden token create`); the
    same roles apply as on the command line. Put it behind a TLS-terminating proxy when it
    listens on anything but loopback.

    \b
    Example:
      zonewarden serve --port 8000
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/v1/sites
    """
    import uvicorn

    from zonewarden.services.database import open_for_serving

    open_for_serving(db_url).close()  # a schema that is not this version's: say so before starting workers
    if db_url:
        os.environ["ZONEWARDEN_DB"] = db_url  # each worker's factory opens the same database
    if host not in ("127.0.0.1", "::1", "localhost"):
        note(f"warning: listening on {host}: terminate TLS in front of it (tokens and passwords travel in requests)")
    uvicorn.run("zonewarden.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=False, server_header=False)


commands = [serve_cmd]
