"""The one write path for a site's records (the **Mutation** mechanism).

Every use case that changes one record of a stored site (a requirement status, a compensating
control, a deferral, a patch change, a risk, a zone, an asset...) goes through :func:`apply`:
authorize the operation (a denial is recorded), then in one transaction lock the site (checking
the revision the caller edits), read it, change it in place with a :data:`Mutation`, validate the
whole site again, write it back and append one audit event with the record before and after.
Nothing is written when any step fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select

from zonewarden.domain.site import SiteDocument, reference_problems
from zonewarden.errors import InputError, NotFoundError
from zonewarden.runtime import gc_paused
from zonewarden.services import audit, identity, signatures
from zonewarden.services import sites as site_service
from zonewarden.services.principal import Principal
from zonewarden.services.signatures import Signing
from zonewarden.store.db import Store
from zonewarden.store.tables import sites


@dataclass(frozen=True)
class RecordOutcome:
    """What one write did."""

    site_id: str
    action: str
    object_id: str
    created: bool
    """True when the record is new, False when an existing one was replaced (or removed)."""
    before: dict[str, Any] | None
    after: dict[str, Any]
    """The record as written; empty when it was removed (the audit event's ``after`` is null)."""
    audit_seq: int


Mutation = Callable[[dict[str, Any]], tuple[str, dict[str, Any] | None, dict[str, Any] | None]]
"""Changes the site data in place; returns (object id, record before, record after). ``after``
is None when the record was removed."""

Explain = Callable[[InputError, dict[str, Any]], InputError]
"""Turns the whole-site validation's error into one that says what to do (e.g. name the records
that still refer to a removed one); gets the changed site data."""


def validate_site(data: dict[str, Any]) -> SiteDocument:
    """The whole site, validated with its references; InputError with field paths otherwise."""
    from zonewarden.io.sitefile import pydantic_problems

    try:
        doc = SiteDocument.model_validate(data, context={"defer_references": True})
    except ValidationError as exc:
        raise InputError("the change would make the site invalid", pydantic_problems(exc)) from None
    problems = reference_problems(doc)
    if problems:
        raise InputError("the change would make the site invalid", problems)
    return doc


def apply(
    store: Store,
    site_id: str,
    action: str,
    object_type: str,
    mutate: Mutation,
    *,
    principal: Principal,
    operation: str,
    reason: str | None,
    evidence: Mapping[str, bytes] | None = None,
    signing: Signing | None = None,
    expected_revision: str | None = None,
    explain: Explain | None = None,
) -> RecordOutcome:
    """The one write path for a site's records: authorize ``operation`` (a denial is recorded),
    re-authenticate a signer, then in one transaction lock the site, read it, ``mutate`` it,
    validate the whole site, write it back and append the audit event (and, for an approval by
    an authenticated person, its electronic signature). The lock comes before the read, so two
    concurrent writers cannot both change the same old copy (the second waits and sees the
    first's change); the audit event commits with the change or not at all."""
    identity.authorize(store, principal, operation, site_id)
    signer = signatures.confirm(store, principal, operation, signing)
    now = dt.datetime.now(dt.UTC)
    with gc_paused(), store.transaction() as conn:  # a large site's read, validation and dump
        if site_service.lock_site(conn, site_id, expected_revision=expected_revision) is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        data = site_service._stored_data(conn, site_id)  # same package: the site service's reader
        if data is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        stored = site_service.section_prints(data)  # before the change: what _write compares
        old_hash = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id)).scalar()
        object_id, before, after = mutate(data)
        try:
            doc = validate_site(data)
        except InputError as exc:
            if explain is None:
                raise
            raise explain(exc, data) from None
        clean = doc.model_dump(mode="json", exclude_defaults=True)
        digest = hashlib.sha256(orjson.dumps(clean, option=orjson.OPT_SORT_KEYS)).hexdigest()
        site_service._write(conn, doc, clean, digest, now, evidence, stored=stored)
        from zonewarden.services.advisories import carry_match_state

        carry_match_state(conn, site_id, old_hash, digest)  # records only: findings stay current
        event = audit.append(
            conn,
            action=action,
            **audit.with_site_digest(principal.audit_fields, digest),  # the state it produced: audit verify
            site_id=site_id,
            object_type=object_type,
            object_id=object_id,
            reason=reason,
            before=before,
            after=after,
            at=now,
        )
        if signing is not None and signatures.needs_signature(signer, operation):
            # Bound to the record as stored (normalised by validation), so the hash a reader
            # recomputes from the database is the one signed.
            signed = signatures.site_records(clean).get((object_type, object_id)) or after or {}
            audit.append(conn, **signatures.signature_event(  # type: ignore[arg-type]
                signer, operation, site_id, doc.site.timezone, signing, object_type, object_id, signed, now))
    return RecordOutcome(site_id, action, object_id, before is None, before, after or {}, event.seq)


__all__ = ["Explain", "Mutation", "RecordOutcome", "apply", "validate_site"]
