"""Two API server processes on one PostgreSQL database share nothing but the database: a token
made through one works on the other, a revision written through one is stale on the other, and
concurrent writes through both keep the audit chain intact (issue 12, Speed and scale)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from zonewarden.io.sitefile import load_site
from zonewarden.services import audit_queries, identity, sites
from zonewarden.services.principal import local_principal
from zonewarden.store.db import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
SITE = "rheinfeld-os"
ZONES = ("ent", "coat", "ops", "dmz")
SRS = ("SR 1.1", "SR 1.2", "SR 2.1", "SR 3.1", "SR 5.1")

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ZONEWARDEN_DB": db_url}
    return subprocess.Popen([str(Path(sys.executable).with_name("zonewarden")), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server on {port} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"server on {port} did not start in 60 s")


@pytest.fixture()
def two_servers(db_url: str):  # type: ignore[no-untyped-def]
    if not db_url.startswith("postgresql"):
        pytest.skip("two server processes share a PostgreSQL database (SQLite is the single-user default)")
    store = open_store(db_url)
    local = local_principal(name="setup")
    sites.import_documents(store, [load_site(EXAMPLE)], principal=local)
    identity.add_user(store, local, "ada", "Ada Admin", "administrator pass")
    admin = identity.authenticate_password(store, "ada", "administrator pass")
    identity.add_user(store, admin, "eve", "Eve Engineer", "engineer's long pass")
    identity.grant_role(store, admin, "eve", "engineer", SITE)
    token = identity.create_token(store, admin, "eve")[1]
    ports = [_free_port(), _free_port()]
    procs = [_serve(db_url, p) for p in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_ready(port, proc)
        yield store, token, [f"http://127.0.0.1:{p}/api/v1" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)
        store.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_servers_share_tokens_revisions_and_one_audit_chain(two_servers) -> None:  # type: ignore[no-untyped-def]
    store, token, (one, two) = two_servers
    auth = {"Authorization": f"Bearer {token}"}
    # The token (made in the database, used first on server one) works on server two.
    assert httpx.get(f"{one}/whoami", headers=auth).json()["user"] == "eve"
    assert httpx.get(f"{two}/whoami", headers=auth).json()["user"] == "eve"

    # A write through one makes the revision read from two stale.
    etag = httpx.get(f"{two}/sites/{SITE}", headers=auth).headers["etag"]
    body = {"status": "partial", "justification": "first of two", "reason": "two servers"}
    url = f"/sites/{SITE}/requirements/ent/SR 1.1"
    r = httpx.put(one + url, json=body, headers={**auth, "If-Match": etag})
    assert r.status_code == 200, r.text
    r = httpx.put(two + url, json={**body, "justification": "second"}, headers={**auth, "If-Match": etag})
    assert r.status_code == 412 and r.json()["current_revision"] != etag.strip('"')

    # Concurrent writes through both servers: each retries on 412 with the current revision.
    done: list[tuple[str, str]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def writer(base: str, work: list[tuple[str, str]]) -> None:
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            for zone, sr in work:
                for _ in range(200):
                    current = client.get(f"/sites/{SITE}").headers["etag"]
                    r = client.put(f"/sites/{SITE}/requirements/{zone}/{sr}", headers={"If-Match": current},
                                   json={"status": "partial", "justification": f"{zone} {sr}", "reason": "load"})
                    if r.status_code == 200:
                        with lock:
                            done.append((zone, sr))
                        break
                    if r.status_code != 412:
                        with lock:
                            errors.append(f"{r.status_code} {r.text}")
                        return
                else:
                    with lock:
                        errors.append(f"{zone} {sr}: no turn in 200 tries")

    pairs = [(z, s) for z in ZONES for s in SRS if (z, s) != ("ent", "SR 1.1")]
    threads = [threading.Thread(target=writer, args=((one, two)[i % 2], pairs[i::4])) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [] and sorted(done) == sorted(pairs)

    doc = sites.load_document(store, SITE)
    recorded = {(r.target, r.requirement): r.justification for r in doc.requirements}
    assert all(recorded[p] == f"{p[0]} {p[1]}" for p in pairs)  # no write lost or overwritten
    with store.read() as conn:
        from zonewarden.services import audit

        result = audit.verify(conn)
    assert result.ok, result.problems
    setup = local_principal(name="setup")
    events = [e for e in audit_queries.log(store, setup, SITE) if e.action == "requirement.set-status"]
    assert len(events) == len(pairs) + 1
