"""OpenPGP for the PSIRT in a throw-away GnuPG home (python-gnupg; issue 16).

:class:`Keyring` is the one place that creates a temporary GnuPG home and removes it (and the
agent gpg started for it) again: the user's own keyring is never read or changed. The signer of
published advisories (``services.psirt_publish.Signer``) and the encrypted answers to reporters
(``services.psirt_reply``) both use it.

:func:`check_public_key` decides whether a reporter's armoured public key can be encrypted to at
``now``: exactly one public key (never a secret key), not revoked, not expired, with a usable
encryption (sub)key. The reasons are said in words, because the person reading them is either
the reporter at intake or the analyst about to answer.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from zonewarden.errors import InputError

PUBLIC_BLOCK = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
SECRET_BLOCK = "-----BEGIN PGP PRIVATE KEY BLOCK-----"


def gpg_available() -> bool:
    return shutil.which("gpg") is not None


class Keyring:
    """A temporary GnuPG home with python-gnupg on it; a context manager."""

    def __init__(self, *, purpose: str = "OpenPGP") -> None:
        if not gpg_available():
            raise InputError(f"{purpose} needs the gpg program (Debian package gnupg)")
        import gnupg

        self.home = tempfile.mkdtemp(prefix="zwgpg-")  # short: gpg's socket path must fit in 108 bytes
        self.gpg = gnupg.GPG(gnupghome=self.home)

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Keyring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A public key that can be encrypted to: its primary fingerprint and when it expires."""

    fingerprint: str
    expires: dt.datetime | None


def _when(epoch: str | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else None


def _usable(info: dict[str, Any], now: dt.datetime) -> bool:
    expires = _when(info.get("expires"))
    return info.get("trust") not in ("r", "e", "i", "d") and (expires is None or expires > now)


def inspect(keyring: Keyring, armoured: str, now: dt.datetime, *, source: str) -> KeyInfo:
    """Import ``armoured`` into ``keyring`` and check it can be encrypted to at ``now``;
    :class:`InputError` saying why not (``source`` names where the key came from)."""
    if SECRET_BLOCK in armoured:
        raise InputError(f"{source}: this is an OpenPGP secret key; send the public key only "
                         "(gpg --armor --export), and consider the secret key compromised")
    if PUBLIC_BLOCK not in armoured:
        raise InputError(f"{source}: not an armoured OpenPGP public key (it starts with {PUBLIC_BLOCK})")
    result = keyring.gpg.import_keys(armoured)
    keys = keyring.gpg.list_keys()
    if not result.fingerprints or not keys:
        raise InputError(f"{source}: gpg found no usable public key in it ({result.summary() or 'nothing imported'})")
    if keyring.gpg.list_keys(secret=True):
        raise InputError(f"{source}: the block holds a secret key; send the public key only")
    if len(keys) > 1:
        raise InputError(f"{source}: {len(keys)} public keys; send exactly one")
    key = keys[0]
    fpr = str(key["fingerprint"]).upper()
    if key.get("trust") == "r":
        raise InputError(f"{source}: key {fpr} is revoked; ask the reporter for a current key")
    expires = _when(key.get("expires"))
    if key.get("trust") == "e" or (expires is not None and expires <= now):
        when = f" on {expires.date().isoformat()}" if expires else ""
        raise InputError(f"{source}: key {fpr} expired{when}; ask the reporter for a current key")
    primary_encrypts = "e" in "".join(c for c in str(key.get("cap", "")) if c.islower())  # upper case: the whole key
    subkeys = [info for info in (key.get("subkey_info") or {}).values() if "e" in str(info.get("cap", ""))]
    if not (primary_encrypts or any(_usable(s, now) for s in subkeys)):
        why = "all its encryption subkeys are expired or revoked" if subkeys else "it has no encryption (sub)key"
        raise InputError(f"{source}: key {fpr} cannot encrypt: {why}; ask the reporter for a key that can")
    return KeyInfo(fpr, expires)


def check_public_key(armoured: str, now: dt.datetime, *, source: str) -> KeyInfo:
    """:func:`inspect` in a keyring of its own."""
    with Keyring(purpose="checking an encryption key") as ring:
        return inspect(ring, armoured, now, source=source)


def encrypt(armoured: str, data: bytes, now: dt.datetime, *, source: str) -> tuple[bytes, KeyInfo]:
    """``data`` encrypted to the one public key ``armoured`` (checked first), ASCII-armoured."""
    with Keyring(purpose="encrypting to the reporter") as ring:
        info = inspect(ring, armoured, now, source=source)
        # always_trust: the key is the one the reporter sent with the report, not one from a web
        # of trust; checking it is this module's job (above), not gpg's trust database.
        out = ring.gpg.encrypt(data, [info.fingerprint], always_trust=True, armor=True)
        if not out.ok or not out.data:
            raise InputError(f"{source}: gpg could not encrypt to key {info.fingerprint} ({out.status or 'no output'})")
        return bytes(out.data), info
