"""What the reporter's OpenPGP key costs (issue 16): intake with the key checked and an answer
encrypted to it, against intake without a key in the same run. Each runs gpg in a throw-away
home, so CPU is counted for this process and its children.

    python bench/bench_psirt_reply.py [N]
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from zonewarden.services import psirt, psirt_reply
from zonewarden.services.principal import local_principal
from zonewarden.store.db import open_store


def _key(home: str) -> str:
    gpg = ["gpg", "--batch", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run([*gpg, "--quick-gen-key", "R <r@example.org>", "ed25519", "sign", "1y"], check=True, capture_output=True)
    listing = subprocess.run([*gpg, "--list-keys", "--with-colons"], check=True, capture_output=True, text=True).stdout
    fpr = listing.split("\nfpr:::::::::")[1].split(":")[0]
    subprocess.run([*gpg, "--quick-add-key", fpr, "cv25519", "encr", "1y"], check=True, capture_output=True)
    return subprocess.run([*gpg, "--armor", "--export", fpr], check=True, capture_output=True, text=True).stdout


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(n: int) -> None:
    home = tempfile.mkdtemp(prefix="zwb-")
    tmp = tempfile.mkdtemp(prefix="zwb-db-")
    try:
        public = _key(home)
        store = open_store(f"sqlite:///{tmp}/bench.db")
        me = local_principal(name="bench")

        def report(key: str | None):  # type: ignore[no-untyped-def]
            reporter = {"contact": "r@example.org", **({"encryption_key": key} if key else {})}
            body = {"reporter": reporter, "product": "P", "title": "T", "description": "D"}
            return psirt.parse_report(json.dumps(body).encode(), source="bench")

        ref = psirt.intake(store, report(public), principal=me).reference
        steps: list[tuple[str, Callable[[], object]]] = [
            ("intake, no key", lambda: psirt.intake(store, report(None), principal=me)),
            ("intake, key checked", lambda: psirt.intake(store, report(public), principal=me)),
            ("reply, encrypted", lambda: psirt_reply.reply(store, ref, b"thanks, fixed in 2.1", principal=me)),
        ]
        results = {}
        for name, step in steps:
            step()
            wall, cpu = time.perf_counter(), _cpu()
            for _ in range(n):
                step()
            results[name] = ((time.perf_counter() - wall) / n, (_cpu() - cpu) / n)
        base_wall, base_cpu = results["intake, no key"]
        for name, (wall, cpu) in results.items():
            print(f"{name:22s} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:6.1f} ms  "
                  f"x{wall / base_wall:5.2f} wall  x{cpu / base_cpu:5.2f} cpu")
        print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
