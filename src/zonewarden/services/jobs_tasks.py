"""The built-in background jobs. Each is a thin call of a service with the principal the job runs
as, so authorization and the audit trail are the service's, as for the CLI and the API."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zonewarden.errors import InputError, SourceUnavailable
from zonewarden.services.jobs import job
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
KEV_MAX_BYTES = 32 * 1024 * 1024


@job("csaf.sync", summary="Sync one CSAF provider (scheduled daily for every provider synced once)",
     operation="advisory.ingest", max_attempts=4, backoff_seconds=300, args=("url", "strict", "full"))
def csaf_sync_job(store: Store, principal: Principal, *, url: str, strict: bool = False,
                  full: bool = False) -> Mapping[str, Any]:
    from zonewarden.services.csaf_sync import sync
    from zonewarden.services.jobs import progress

    report = sync(store, url, strict=strict, full=full, principal=principal, reason=f"scheduled sync of {url}",
                  progress=progress)
    if not report.ok:
        first = report.failed[0]
        # Failed documents are retried by the next run anyway; failing the job makes it visible
        # and retries it sooner, with backoff.
        raise SourceUnavailable(f"{len(report.failed)} of {report.discovered} documents failed, first "
                                f"{first.url} at {first.stage}: {first.reason}")
    return report.counts()


@job("advisories.rematch", summary="Match advisories against every site whose inventory changed",
     operation="job.admin", interval=dt.timedelta(hours=1))
def rematch_job(store: Store, principal: Principal) -> Mapping[str, Any]:
    from zonewarden.services.advisories import ensure_current

    return {"sites": ensure_current(store)}


@job("report.build", summary="Build an evidence package of a site into a folder",
     operation="report.{audience}", max_attempts=2,
     args=("site_id", "audience", "formats", "output", "as_of", "issue", "recipient", "agreement"))
def report_job(store: Store, principal: Principal, *, site_id: str, audience: str = "auditor",
               formats: list[str] | None = None, output: str | None = None,
               as_of: str | None = None, issue: bool = False, recipient: str | None = None,
               agreement: str | None = None) -> Mapping[str, Any]:
    """With ``issue`` the package is recorded as the next numbered version (``report.issue``)
    and its files with their hashes (``services.package_files``). Progress: ``build`` (the
    package's data and renderings), then ``write`` per file."""
    import hashlib

    from zonewarden.evidence.builder import write_package
    from zonewarden.services import package_files
    from zonewarden.services.jobs import progress
    from zonewarden.services.queries import report as queries

    if audience not in ("auditor", "customer"):
        raise InputError(f"report.build: audience {audience!r}: use auditor or customer")
    chosen = formats or ["html"]
    # The folder is checked before anything is built or issued (a refused folder issues nothing).
    asked = _relative(output) if output is not None else None
    progress("build", 0, len(chosen))
    result = queries.report(store, principal=principal, site_id=site_id, audience=audience,
                            formats=chosen, as_of=as_of, issue=issue, recipient=recipient, agreement=agreement)
    progress("build", len(chosen), len(chosen))
    relative = asked or _relative(f"{result.site_id}-{audience}-{result.as_of.isoformat()}")
    folder = packages_dir() / relative
    names = sorted(result.files)
    for i, name in enumerate(names):
        progress("write", i, len(names))
        write_package({name: result.files[name]}, folder)
    progress("write", len(names), len(names))
    out: dict[str, Any] = {
        "site": result.site_id, "audience": audience, "as_of": result.as_of.isoformat(), "folder": str(folder),
        "output": relative.as_posix(), "files": {n: hashlib.sha256(result.files[n]).hexdigest() for n in names}}
    control = next((s.data for s in result.package.sections if s.id == "document-control"), None)
    if issue and control is not None:
        out["document_id"], out["version"] = control["document_id"], int(control["version"])
        package_files.record(store, principal=principal, site_id=result.site_id, audience=audience,
                             version=out["version"], folder=relative.as_posix(), files=result.files)
    return out


def packages_dir() -> Path:
    """Where ``report.build`` writes: ``ZONEWARDEN_PACKAGES_DIR``, else ./packages of the worker."""
    return Path(os.environ.get("ZONEWARDEN_PACKAGES_DIR") or "packages")


def _relative(output: str) -> Path:
    """A job's output folder is a relative path inside :func:`packages_dir`: whoever may queue a
    report (a web user) must not choose where on the worker's disk files are written."""
    path = Path(output)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise InputError(f"report.build: output {output!r} must be a relative folder name inside the packages "
                         "folder (ZONEWARDEN_PACKAGES_DIR), without '..'")
    return path


@job("kev.refresh", summary="Download CISA's KEV catalog (or read a file) and re-prioritise findings",
     operation="kev.import", max_attempts=4, backoff_seconds=600, args=("url", "path"))
def kev_job(store: Store, principal: Principal, *, url: str | None = None, path: str | None = None) -> Mapping[str, Any]:
    from zonewarden.services.advisories import import_kev

    if path is not None:
        report = import_kev(store, path, principal=principal, reason=f"KEV refresh from {path}")
    else:
        source = url or KEV_URL
        with tempfile.TemporaryDirectory(prefix="zonewarden-kev-") as tmp:
            target = Path(tmp) / "kev.json"
            _download(source, target)
            report = import_kev(store, target, principal=principal, reason=f"KEV refresh from {source}")
    return {"version": report.version, "entries": report.entries, "added": report.added,
            "removed": report.removed, "reprioritised": report.reprioritised}


def _download(url: str, target: Path) -> None:
    import httpx

    if not url.startswith("https://"):
        raise InputError(f"kev.refresh: {url} is not an https:// URL")
    size = 0
    try:
        with httpx.stream("GET", url, timeout=30.0, follow_redirects=True) as response:
            response.raise_for_status()
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > KEV_MAX_BYTES:
                        raise SourceUnavailable(f"{url}: the KEV catalog is larger than {KEV_MAX_BYTES} bytes")
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{url}: {exc}") from exc


@job("checks.expiry", summary="Alert on deferrals and compensating controls about to expire",
     operation="job.admin", interval=dt.timedelta(days=1))
def expiry_job(store: Store, principal: Principal) -> Mapping[str, Any]:
    from zonewarden.services import alerts

    return alerts.scan_and_deliver(store, kinds=("expiry",))


@job("checks.sla", summary="Alert on remediations whose SLA is about to break",
     operation="job.admin", interval=dt.timedelta(days=1))
def sla_job(store: Store, principal: Principal) -> Mapping[str, Any]:
    from zonewarden.services import alerts

    return alerts.scan_and_deliver(store, kinds=("sla",))


@job("alerts.scan", summary="Alert on new affected findings and signature requests",
     operation="job.admin", interval=dt.timedelta(minutes=5))
def alerts_scan_job(store: Store, principal: Principal) -> Mapping[str, Any]:
    from zonewarden.services import alerts

    return alerts.scan_and_deliver(store, kinds=("finding", "signature"))


@job("alerts.deliver", summary="Retry alert deliveries that failed", operation="job.admin",
     interval=dt.timedelta(minutes=1))
def alerts_deliver_job(store: Store, principal: Principal) -> Mapping[str, Any]:
    from zonewarden.services import alerts

    return alerts.deliver_pending(store).as_json()


@job("audit.checkpoint", summary="Write a signed audit checkpoint (schedule it: jobs schedule audit.checkpoint)",
     operation="audit.checkpoint", max_attempts=3, backoff_seconds=300, args=("key", "out"))
def checkpoint_job(store: Store, principal: Principal, *, key: str | None = None,
                   out: str | None = None) -> Mapping[str, Any]:
    """Pin the audit chain's head in a signed checkpoint file (:mod:`zonewarden.services.checkpoints`).
    The key file and the folder are the schedule's ``key``/``out`` arguments, else
    ``ZONEWARDEN_CHECKPOINT_KEY`` / ``ZONEWARDEN_CHECKPOINT_DIR`` of the worker: both outside the
    database, which is the point (a rewrite of the database cannot re-sign the files)."""
    from zonewarden.services import checkpoints

    key_path = key or os.environ.get("ZONEWARDEN_CHECKPOINT_KEY")
    out_dir = out or os.environ.get("ZONEWARDEN_CHECKPOINT_DIR")
    if not key_path or not out_dir:
        raise InputError("audit.checkpoint: name the HMAC key file and the checkpoint folder (schedule arguments "
                         "key=FILE out=DIR, or ZONEWARDEN_CHECKPOINT_KEY and ZONEWARDEN_CHECKPOINT_DIR of the worker); "
                         "create a key with `zonewarden audit keygen FILE`")
    path, written = checkpoints.write_checkpoint(store, checkpoints.load_key(Path(key_path)), Path(out_dir),
                                                 principal=principal)
    return {"file": str(path), "written": written}
