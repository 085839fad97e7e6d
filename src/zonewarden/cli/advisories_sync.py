"""``zonewarden advisories sync URL``: fetch what changed at a CSAF provider and ingest it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zonewarden.cli.common import (
    EXIT_FINDINGS,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    open_store_for,
)
from zonewarden.errors import InputError

EPILOG = """\b
Examples:
  zonewarden advisories sync https://psirt.example.com/.well-known/csaf/provider-metadata.json
  zonewarden advisories sync https://example.org/csaf/feed-tlp-white.json --key psirt.asc
  zonewarden advisories sync http://127.0.0.1:8000/csaf_files/OT/white/ --format json

\b
Exit codes: 0 everything listed is in the database, 1 some documents failed (see the
report; they are retried on the next run), 2 bad URL or options, 3 database problem.
"""


@click.command("sync", epilog=EPILOG)
@click.argument("url")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Publisher's OpenPGP public key; checks each document's .asc signature.")
@click.option("--full", is_flag=True,
              help="Fetch and verify every listed document again, not only what changed (e.g. after adding --key).")
@click.option("--strict", is_flag=True, help="Reject any document with a deviation (see docs/csaf-validation.md).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds to connect and per read.")
@click.option("--retries", type=click.IntRange(min=0, max=10), default=3, show_default=True,
              help="Further attempts after a dropped connection, timeout, 5xx or 429.")
@click.option("--max-size", "max_mib", type=click.IntRange(min=1, max=1024), default=15, show_default=True,
              help="Largest document accepted, in MiB (CSAF 2.0 Appendix C: 15).")
@click.option("--jobs", type=click.IntRange(min=1, max=32), default=4, show_default=True,
              help="Parallel downloads.")
@click.option("--proxy", default=None, metavar="URL",
              help="HTTP(S) proxy to go through (proxy environment variables are not used).")
@click.option("--deadline", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Overall time limit for the whole sync (every request together); what is left is fetched next run.")
@click.option("--allow-insecure", is_flag=True,
              help="Allow a plain http:// provider (no TLS: anyone on the path can forge advisories).")
@click.option("--why", "reason", default=None, help="Reason recorded with the ingested revisions.")
@format_option("table", "json")
@db_option
@handle_errors
def sync_cmd(url: str, key_file: Path | None, full: bool, strict: bool, timeout: float, retries: int, max_mib: int,
             jobs: int, proxy: str | None, deadline: float | None, allow_insecure: bool, reason: str | None, fmt: str,
             db_url: str | None) -> None:
    """Download what changed at a CSAF provider since the last sync, verify it, ingest it.

    URL is a provider's provider-metadata.json, a ROLIE feed, or a folder with
    changes.csv / index.txt (or either file). Only that host is contacted, plus hosts the
    provider metadata names. Each document's .sha512 (and .sha256) is checked, and its .asc
    signature when --key is given; failures are reported and retried on the next run.
    """
    from zonewarden.cli.identity import current_principal
    from zonewarden.io.csaf.sync import ProviderUnavailable, SyncOptions
    from zonewarden.services.csaf_sync import sync

    if proxy is not None and not proxy.startswith(("http://", "https://", "socks5://")):
        raise InputError(f"--proxy {proxy!r}: give a URL such as http://proxy.example:3128")

    key = None
    if key_file is not None:
        try:
            key = key_file.read_bytes()
        except OSError as exc:
            raise InputError(f"--key {key_file}: cannot read: {exc.strerror}") from None
    options = SyncOptions(timeout=timeout, retries=retries, max_document_bytes=max_mib * 1024 * 1024,
                          workers=jobs, proxy=proxy, deadline=deadline, allow_insecure=allow_insecure)
    store = open_store_for(db_url)
    try:
        with _progress() as progress:
            report = sync(store, url, key=key, strict=strict, full=full, options=options, progress=progress,
                          principal=current_principal(store), reason=reason)
    except ProviderUnavailable as exc:
        note(f"error: {exc} (nothing synced; run again later)")
        sys.exit(EXIT_FINDINGS)
    finally:
        store.close()

    if fmt == "json":
        emit_json(report.as_json())
    else:
        counts = report.counts()
        rows = [
            {"what": "discovered", "count": report.discovered},
            {"what": "unchanged", "count": report.unchanged},
            {"what": "downloaded", "count": report.downloaded},
            *({"what": f"ingested: {k}", "count": v} for k, v in counts["ingested"].items()),
            {"what": "failed", "count": len(report.failed)},
            *([{"what": "VEX statements recorded", "count": report.vex_statements},
               {"what": "findings closed by VEX", "count": report.vex_closed}]
              if report.vex_statements or report.vex_closed else []),
        ]
        note(f"synced {_safe(report.url)} ({report.kind})")
        emit_rows(rows, ["what", "count"], "table")
        if report.failed:
            note("failed (retried on the next sync):")
            emit_rows([{"url": _safe(f.url), "stage": f.stage, "reason": _safe(f.reason)} for f in report.failed],
                      ["url", "stage", "reason"], "table")
    if not report.signatures_checked:
        note("note: signatures not checked; pass --key with the publisher's OpenPGP public key")
    if report.failed:
        sys.exit(EXIT_FINDINGS)


_CONTROL = {c: "\ufffd" for c in range(32) if c not in (9, 10)} | {127: "\ufffd"}


def _safe(text: str | None) -> str:
    """Text from the provider (URLs, server messages) without terminal control characters."""
    return "" if text is None else str(text).translate(_CONTROL)


class _progress:
    """A rich progress bar on stderr when it is a terminal; otherwise nothing."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("downloading", total=None)

        def update(stage: str, done: int, total: int) -> None:
            self._bar.update(self._task, completed=done, total=total, description=stage)

        return update

    def __exit__(self, *exc: object) -> None:
        bar = getattr(self, "_bar", None)
        if bar is not None:
            bar.stop()


commands: list[click.Command] = []
