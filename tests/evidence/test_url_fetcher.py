"""The PDF renderer fetches nothing: a ``file:`` or ``http:`` reference in the package HTML is
refused (no request reaches a server, no local file is read); inline ``data:`` URLs still work."""

from __future__ import annotations

import http.server
import threading
from typing import Any

import pytest

from zonewarden.evidence.render import render_pdf, url_fetcher


def test_only_data_urls_are_fetched() -> None:
    fetcher = url_fetcher()
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/a.css", "ftp://h/f"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=") is not None


def test_rendering_sends_no_request() -> None:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        html = (f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/a.css"></head><body>'
                f'<p>report</p><img src="http://127.0.0.1:{port}/leak.png"><img src="file:///etc/passwd"></body></html>')
        pdf = render_pdf(None, html)  # type: ignore[arg-type]  # the package is not read for rendering
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF") and hits == []
