"""The files of a CSAF provider folder (CSAF 2.0 section 7), built from published advisories.

Pure: returns ``{relative path: bytes}``; signing (``.asc``) and writing are the service's job.
Layout below the folder (serve it as the web root)::

    .well-known/security.txt                       RFC 9116: contact, policy, CSAF provider
    .well-known/csaf/provider-metadata.json        7.1.20, validated against the OASIS schema
    .well-known/csaf/<tlp>/<year>/<id>.json        7.1.11 (+ .sha256, .sha512, .asc)
    .well-known/csaf/<tlp>/index.txt, changes.csv  7.1.15 / 7.1.16
    .well-known/csaf/feed-tlp-<tlp>.json           7.1.23 ROLIE feed
    .well-known/csaf/openpgp/<fingerprint>.asc     the public key (7.1.19)
    disclosure-policy.html                         the recorded process, every value escaped
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from zonewarden.domain import psirt as d
from zonewarden.io.csaf.author import csaf_time, file_name
from zonewarden.io.csaf.model import Deviation, pointer
from zonewarden.io.csaf.schema import ENV_SCHEMA_DIR, find_schema_files

WELL_KNOWN = ".well-known/csaf"


@dataclass(frozen=True, slots=True)
class Published:
    """The newest revision of one advisory."""

    document: dict[str, Any]
    updated: dt.datetime

    @property
    def tracking_id(self) -> str:
        return str(self.document["document"]["tracking"]["id"])

    @property
    def tlp(self) -> str:
        return str(self.document["document"].get("distribution", {}).get("tlp", {}).get("label", "WHITE")).lower()

    @property
    def year(self) -> str:
        return str(self.document["document"]["tracking"]["initial_release_date"])[:4]

    @property
    def path(self) -> str:
        """Path below ``.well-known/csaf/``."""
        return f"{self.tlp}/{self.year}/{file_name(self.tracking_id)}"


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def advisory_bytes(document: dict[str, Any]) -> bytes:
    """The bytes published for a document (the hashes and signatures are of these)."""
    return _json(document)


def provider_metadata(policy: d.DisclosurePolicy, base_url: str, tlps: Sequence[str], now: dt.datetime,
                      fingerprint: str | None) -> dict[str, Any]:
    base = base_url.rstrip("/")
    doc: dict[str, Any] = {
        "canonical_url": f"{base}/{WELL_KNOWN}/provider-metadata.json",
        "distributions": [{"directory_url": f"{base}/{WELL_KNOWN}/{t}/",
                           "rolie": {"feeds": [{"summary": f"TLP:{t.upper()} advisories of {policy.publisher_name}",
                                                "tlp_label": t.upper(),
                                                "url": f"{base}/{WELL_KNOWN}/feed-tlp-{t}.json"}]}}
                          for t in sorted(set(tlps)) or ["white"]],
        "last_updated": csaf_time(now),
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": {"category": "vendor", "name": policy.publisher_name, "namespace": policy.publisher_namespace,
                      "contact_details": policy.contact},
        "role": "csaf_trusted_provider" if fingerprint else "csaf_provider",
    }
    if fingerprint:
        doc["public_openpgp_keys"] = [{"fingerprint": fingerprint,
                                       "url": f"{base}/{WELL_KNOWN}/openpgp/{fingerprint}.asc"}]
    return doc


def rolie_feed(items: Sequence[Published], tlp: str, base_url: str, policy: d.DisclosurePolicy,
               now: dt.datetime, signed: bool) -> dict[str, Any]:
    base = f"{base_url.rstrip('/')}/{WELL_KNOWN}"
    entries = []
    for p in sorted(items, key=lambda x: x.tracking_id):
        url = f"{base}/{p.path}"
        links = [{"rel": "self", "href": url}, {"rel": "hash", "href": url + ".sha256"},
                 {"rel": "hash", "href": url + ".sha512"}]
        if signed:
            links.append({"rel": "signature", "href": url + ".asc"})
        doc = p.document["document"]
        entries.append({
            "id": p.tracking_id, "title": doc["title"], "link": links,
            "published": doc["tracking"]["initial_release_date"], "updated": csaf_time(p.updated),
            "summary": {"content": next((n["text"] for n in doc.get("notes", []) if n.get("category") == "summary"), "")},
            "content": {"type": "application/json", "src": url},
            "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"},
        })
    return {"feed": {
        "id": f"{policy.publisher_name.lower().replace(' ', '-')}-feed-tlp-{tlp}",
        "title": f"{policy.publisher_name} - CSAF feed (TLP:{tlp.upper()})",
        "link": [{"rel": "self", "href": f"{base}/feed-tlp-{tlp}.json"}],
        "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
        "updated": csaf_time(now),
        "entry": entries,
    }}


def security_txt(policy: d.DisclosurePolicy, base_url: str, now: dt.datetime, fingerprint: str | None) -> str:
    """RFC 9116 security.txt (Contact and Expires are required; CSAF is section 7.1.8's field)."""
    base = base_url.rstrip("/")
    lines = [f"Contact: mailto:{policy.contact}",
             f"Expires: {(now + dt.timedelta(days=365)).astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"]
    if fingerprint:
        lines.append(f"Encryption: {base}/{WELL_KNOWN}/openpgp/{fingerprint}.asc")
    lines.append(f"Policy: {policy.policy_url or base + '/disclosure-policy.html'}")
    lines.append(f"Preferred-Languages: {', '.join(policy.languages)}")
    lines.append(f"Canonical: {base}/.well-known/security.txt")
    lines.append(f"CSAF: {base}/{WELL_KNOWN}/provider-metadata.json")
    return "\n".join(lines) + "\n"


def policy_page(policy: d.DisclosurePolicy, base_url: str) -> str:
    """The disclosure-policy page: the recorded process; every value is HTML-escaped."""
    e = html.escape
    steps = "\n".join(f"    <li>{e(s)}</li>" for s in policy.process)
    base = base_url.rstrip("/")
    return f"""<!DOCTYPE html>
<html lang="{e(policy.languages[0])}">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="default-src 'none'">
  <title>Vulnerability disclosure policy - {e(policy.publisher_name)}</title>
</head>
<body>
  <h1>Vulnerability disclosure policy of {e(policy.publisher_name)}</h1>
  <p>Report a vulnerability to <a href="mailto:{e(policy.contact, quote=True)}">{e(policy.contact)}</a>
  (encrypt with our OpenPGP key, see <a href="{e(base, quote=True)}/.well-known/security.txt">security.txt</a>).</p>
  <h2>What happens with your report</h2>
  <ol>
{steps}
  </ol>
  <h2>Our commitments</h2>
  <ul>
    <li>Acknowledgement within {policy.acknowledge_days} days, with a reference for your report.</li>
    <li>A decision (validated or rejected, with the reason) within {policy.decide_days} days.</li>
    <li>A fix or mitigation for validated vulnerabilities within {policy.remediate_days} days, released in
    coordination with you, CERTs and affected customers.</li>
  </ul>
  <p>Advisories are published as signed CSAF 2.0 documents:
  <a href="{e(base, quote=True)}/{WELL_KNOWN}/provider-metadata.json">provider-metadata.json</a>.</p>
</body>
</html>
"""


def provider_files(items: Sequence[Published], policy: d.DisclosurePolicy, base_url: str, now: dt.datetime, *,
                   public_key: bytes | None = None, fingerprint: str | None = None) -> dict[str, bytes]:
    """Every file of the folder except the advisories' ``.asc`` signatures."""
    out: dict[str, bytes] = {}
    by_tlp: dict[str, list[Published]] = {}
    for p in items:
        by_tlp.setdefault(p.tlp, []).append(p)
        data = advisory_bytes(p.document)
        name = Path(p.path).name
        out[f"{WELL_KNOWN}/{p.path}"] = data
        out[f"{WELL_KNOWN}/{p.path}.sha256"] = f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()
        out[f"{WELL_KNOWN}/{p.path}.sha512"] = f"{hashlib.sha512(data).hexdigest()}  {name}\n".encode()
    for tlp, group in by_tlp.items():
        rel = [p.path.split("/", 1)[1] for p in sorted(group, key=lambda x: x.path)]
        out[f"{WELL_KNOWN}/{tlp}/index.txt"] = "".join(r + "\n" for r in rel).encode()
        newest_first = sorted(group, key=lambda x: (x.updated, x.path), reverse=True)
        out[f"{WELL_KNOWN}/{tlp}/changes.csv"] = "".join(
            f'"{p.path.split("/", 1)[1]}","{csaf_time(p.updated)}"\n' for p in newest_first).encode()
        out[f"{WELL_KNOWN}/feed-tlp-{tlp}.json"] = _json(rolie_feed(group, tlp, base_url, policy, now, fingerprint is not None))
    out[f"{WELL_KNOWN}/provider-metadata.json"] = _json(provider_metadata(policy, base_url, list(by_tlp), now, fingerprint))
    if public_key is not None and fingerprint:
        out[f"{WELL_KNOWN}/openpgp/{fingerprint}.asc"] = public_key
    out[".well-known/security.txt"] = security_txt(policy, base_url, now, fingerprint).encode()
    out["disclosure-policy.html"] = policy_page(policy, base_url).encode()
    return out


def provider_schema_path() -> Path | None:
    """The OASIS provider-metadata schema (``provider_json_schema.json``), first found of:
    ``ZONEWARDEN_CSAF_SCHEMA_DIR``'s ``json_schema/``, ``ZONEWARDEN_SHARED_DATA``'s
    ``csaf/oasis/csaf_2.0/json_schema/``, ``../shared/data`` beside a development checkout. (The
    ``csaf`` package ships only the document schema.) Never copied into this repository."""
    roots = []
    if os.environ.get(ENV_SCHEMA_DIR):
        roots.append(Path(os.environ[ENV_SCHEMA_DIR]))
    if os.environ.get("ZONEWARDEN_SHARED_DATA"):
        roots.append(Path(os.environ["ZONEWARDEN_SHARED_DATA"]) / "csaf" / "oasis" / "csaf_2.0")
    roots.append(Path(__file__).resolve().parents[4].parent / "shared" / "data" / "csaf" / "oasis" / "csaf_2.0")
    for root in roots:
        candidate = root / "json_schema" / "provider_json_schema.json"
        if candidate.is_file():
            return candidate
    return None


def provider_metadata_deviations(doc: dict[str, Any]) -> list[Deviation]:
    """Schema deviations of a provider-metadata.json (test id ``provider-schema``); one
    "not checked" deviation when the schema is not available."""
    path = provider_schema_path()
    files = find_schema_files()
    if path is None or files is None:
        return [Deviation("provider-schema", "", "not checked: the OASIS provider schema is not available "
                          "(set ZONEWARDEN_SHARED_DATA or ZONEWARDEN_CSAF_SCHEMA_DIR)")]
    import jsonschema
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    schema = orjson.loads(path.read_bytes())
    beside = path.parent / "csaf_json_schema.json"
    csaf = orjson.loads((beside if beside.is_file() else files.csaf).read_bytes())
    registry: Registry = Registry().with_resource(csaf["$id"], DRAFT202012.create_resource(csaf))
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
    return [Deviation("provider-schema", pointer(*e.absolute_path), e.message[:300])
            for e in validator.iter_errors(doc)]
