"""Site use cases: import, load, list, export, delete.

A site is stored as a whole document. Import replaces the stored document in one transaction
(all sites of one import land together or not at all) and records what changed in the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from sqlalchemy import Connection, Text, cast, delete, or_, select, update

from zonewarden import clock
from zonewarden.domain.site import AssetFacts, AssetType, SiteDocument, SupportStatus
from zonewarden.errors import NotFoundError, StaleRevisionError
from zonewarden.runtime import batched, gc_paused
from zonewarden.services import access, audit
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.tables import SITE_CHILD_TABLES, evidence_files, site_records, sites
from zonewarden.store.tables import assets as assets_table

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.engines.segmentation import AssetScope
    from zonewarden.services.import_safety import NamedConflict

# Columns pulled out of each object's JSON into indexed columns of its table.
_COLUMNS: dict[str, Any] = {
    "zones": lambda o: {"kind": o["kind"], "purdue_level": float(o["purdue_level"])},
    "conduits": lambda o: {"zone_a": o["zones"][0], "zone_b": o["zones"][1]},
    "assets": lambda o: {
        "zone_id": o.get("zone"),
        "type": o["type"],
        "vendor": o.get("vendor"),
        "product": o.get("product"),
        "version": o.get("version"),
        "end_of_support": o.get("end_of_support"),
        "vendor_support": o.get("vendor_support"),
    },
    "people": lambda o: {},
}


def _list_sections() -> list[str]:
    """Sections of the site document that are lists of records (zones, assets, risks...)."""
    out = []
    for name, info in SiteDocument.model_fields.items():
        origin = getattr(info.annotation, "__origin__", None)
        if origin is tuple:
            out.append(name)
    return out


LIST_SECTIONS = _list_sections()


def canonical_json(doc: SiteDocument) -> bytes:
    return orjson.dumps(doc.model_dump(mode="json", exclude_defaults=True), option=orjson.OPT_SORT_KEYS)


def content_hash(doc: SiteDocument) -> str:
    return hashlib.sha256(canonical_json(doc)).hexdigest()


@dataclass(frozen=True)
class SectionChange:
    """Ids added, removed and changed in one section by an import."""

    section: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class ImportOutcome:
    """What one import did to one site."""

    site_id: str
    created: bool
    unchanged: bool
    changes: tuple[SectionChange, ...] = field(default_factory=tuple)
    counts: dict[str, int] = field(default_factory=dict)
    overridden: tuple[NamedConflict, ...] = ()
    """Recorded work the import overwrote or removed because ``prune``/``force`` allowed it."""


def section_prints(data: Mapping[str, Any]) -> dict[str, bytes]:
    """A digest of each list section of site data (sorted-key JSON). A write compares the
    stored site's prints with the new content's and rewrites only the sections that differ."""
    return {
        s: hashlib.sha256(orjson.dumps(data.get(s) or [], option=orjson.OPT_SORT_KEYS)).digest() for s in LIST_SECTIONS
    }


def _write(
    conn: Connection, doc: SiteDocument, data: dict[str, Any], digest: str, now: dt.datetime,
    evidence: Mapping[str, bytes] | None = None, stored: Mapping[str, bytes] | None = None,
) -> None:
    """Store ``doc`` (``data`` is its JSON dump) in place of the stored site.

    ``stored``: the :func:`section_prints` of the site as stored, when there is one; only the
    sections whose content differs are rewritten (an edit of one requirement on a 100k-asset
    site leaves the asset rows alone). Without it the site is replaced whole. Evidence files:
    the stored ones, updated by ``evidence`` (path -> bytes), keeping those the document names.
    """
    site_id = doc.site.id
    named = _referenced_files(data)
    scalar = {k: v for k, v in data.items() if k not in LIST_SECTIONS}
    if stored is None:
        new_files = {p: b for p, b in {**_stored_evidence(conn, site_id), **(evidence or {})}.items() if p in named}
        conn.execute(delete(sites).where(sites.c.id == site_id))  # cascades to every child table
        conn.execute(sites.insert().values(id=site_id, name=doc.site.name, data=scalar, content_hash=digest, updated_at=now))
        sections: Sequence[str] = LIST_SECTIONS
    else:
        conn.execute(
            update(sites).where(sites.c.id == site_id)
            .values(name=doc.site.name, data=scalar, content_hash=digest, updated_at=now)
        )
        prints = section_prints(data)
        sections = [s for s in LIST_SECTIONS if prints[s] != stored.get(s)]
        for section in sections:
            table = SITE_CHILD_TABLES.get(section)
            if table is not None:
                conn.execute(delete(table).where(table.c.site_id == site_id))
            else:
                conn.execute(
                    delete(site_records).where(site_records.c.site_id == site_id, site_records.c.section == section)
                )
        # Evidence by digest: the stored files' bytes are not read back to be kept.
        stmt = select(evidence_files.c.path, evidence_files.c.sha256).where(evidence_files.c.site_id == site_id)
        kept = {r.path: r.sha256 for r in conn.execute(stmt)}
        new_files = {
            p: b for p, b in (evidence or {}).items() if p in named and kept.get(p) != hashlib.sha256(b).hexdigest()
        }
        gone = sorted(p for p in kept if p not in named or p in new_files)
        for paths in batched(gone, 500):
            conn.execute(delete(evidence_files).where(evidence_files.c.site_id == site_id, evidence_files.c.path.in_(paths)))
    for section in sections:
        items = data.get(section) or []
        if not items:
            continue
        table = SITE_CHILD_TABLES.get(section)
        if table is not None:
            extract = _COLUMNS[section]
            rows = [
                {"site_id": site_id, "id": o["id"], "seq": i, "data": o, **extract(o)} for i, o in enumerate(items)
            ]
            table_ins = table.insert()
        else:
            rows = [{"site_id": site_id, "section": section, "seq": i, "data": o} for i, o in enumerate(items)]
            table_ins = site_records.insert()
        for start in range(0, len(rows), 5000):
            conn.execute(table_ins, rows[start : start + 5000])
    files = [
        {"site_id": site_id, "path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "data": b}
        for p, b in sorted(new_files.items())
    ]
    if files:
        conn.execute(evidence_files.insert(), files)


def lock_site(conn: Connection, site_id: str, *, expected_revision: str | None = None) -> str | None:
    """Take the write lock on one site before reading it, inside a write transaction; return
    its revision (the content hash of the stored document), or None when there is no such site.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the site row, so a second writer of the same site
    waits until the first commits and then reads what it wrote. SQLite: the transaction began
    with ``BEGIN IMMEDIATE`` (see ``store.db``), which already holds the database's write lock.
    ``expected_revision``: the revision the caller edits; a different stored one is refused
    with :class:`StaleRevisionError` naming the current revision, and nothing is changed."""
    row = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id).with_for_update()).first()
    current = row.content_hash if row is not None else None
    if expected_revision is not None and current is not None and expected_revision != current:
        raise StaleRevisionError(site_id, expected_revision, current)
    return current


def revision_of(store: Store, site_id: str) -> str:
    """The site's current revision, for a later write's ``expected_revision``."""
    with store.read() as conn:
        row = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id)).first()
    if row is None:
        raise NotFoundError(f"no site {site_id!r} in the database")
    return str(row.content_hash)


def _stored_data(conn: Connection, site_id: str, *, skip: set[str] | None = None) -> dict[str, Any] | None:
    row = conn.execute(select(sites.c.data).where(sites.c.id == site_id)).first()
    if row is None:
        return None
    data: dict[str, Any] = dict(row.data)
    skip = skip or set()
    for section, table in SITE_CHILD_TABLES.items():
        if section in skip:
            continue
        items = [r.data for r in conn.execute(select(table.c.data).where(table.c.site_id == site_id).order_by(table.c.seq))]
        if items:
            data[section] = items
    stmt = (
        select(site_records.c.section, site_records.c.data)
        .where(site_records.c.site_id == site_id)
        .order_by(site_records.c.section, site_records.c.seq)
    )
    for r in conn.execute(stmt):
        if r.section not in skip:
            data.setdefault(r.section, []).append(r.data)
    return data


def _referenced_files(data: dict[str, Any]) -> set[str]:
    out = set()
    for section in ("requirements", "compensating_controls", "capabilities"):
        for item in data.get(section) or []:
            for ev in item.get("evidence") or []:
                if ev.get("file"):
                    out.add(ev["file"])
    return out


def _stored_evidence(conn: Connection, site_id: str) -> dict[str, bytes]:
    stmt = select(evidence_files.c.path, evidence_files.c.data).where(evidence_files.c.site_id == site_id)
    return {r.path: bytes(r.data) for r in conn.execute(stmt)}


def evidence_of(store: Store, site_id: str) -> dict[str, bytes]:
    """The evidence files stored with a site, keyed by their path in the site file."""
    with store.read() as conn:
        return _stored_evidence(conn, site_id)


def import_documents(
    store: Store, docs: Sequence[SiteDocument], *, principal: Principal, reason: str | None = None,
    source: str | None = None, evidence: Mapping[str, Mapping[str, bytes]] | None = None,
    stamps: Mapping[str, Mapping[str, Any]] | None = None, prune: bool = False, force: bool = False,
    expected_revisions: Mapping[str, str] | None = None,
) -> list[ImportOutcome]:
    """Store every document in one transaction; re-importing identical content changes nothing.

    ``evidence`` maps a site id to the bytes of its evidence files (as read and hash-checked by
    the site-file reader). A site imported without it keeps the files it already has, as long
    as the document still names them (an asset CSV merge, for instance).

    ``stamps`` maps a site id to the export stamp its files carry. Work recorded in the
    database since the stamp's revision is neither overwritten, removed nor brought back, and a
    file without a stamp removes nothing, unless ``prune`` (removals) or ``force`` (anything)
    allows it (:mod:`zonewarden.services.import_safety`): otherwise :class:`ImportRefused` names
    every such record, over all sites, and nothing is imported.

    ``expected_revisions`` maps a site id to the revision the document was derived from (an
    asset CSV merged into the stored site): a site stored at another revision by then is
    refused with :class:`StaleRevisionError` and nothing of the batch is written.
    """
    from zonewarden.services import identity  # (it reads the site table; imported late)
    from zonewarden.services.import_safety import ImportRefused, check_site

    # Importing over a site is an edit of it; bringing a new site into the database is a
    # global operation (whoever may create sites), checked before anything is written.
    with store.read() as conn:
        existing = {r.id for r in conn.execute(select(sites.c.id).where(sites.c.id.in_([d.site.id for d in docs])))}
    for doc in docs:
        if doc.site.id in existing:
            identity.authorize(store, principal, "site.import", doc.site.id)
        else:
            identity.authorize(store, principal, "site.create")
    outcomes = []
    now = dt.datetime.now(dt.UTC)
    with gc_paused(), store.transaction() as conn:  # dumps and rows of a large site: see io.sitefile.load_site
        # Every site is checked before any is written: a refusal names all that would be lost.
        pending = []
        for doc in docs:
            data = doc.model_dump(mode="json", exclude_defaults=True)
            digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
            old_row = conn.execute(
                select(sites.c.content_hash).where(sites.c.id == doc.site.id).with_for_update()
            ).first()  # the lock before the read: see lock_site
            expected = (expected_revisions or {}).get(doc.site.id)
            if expected is not None and (old_row is None or old_row.content_hash != expected):
                raise StaleRevisionError(doc.site.id, expected, old_row.content_hash if old_row else "(deleted)")
            old = _stored_data(conn, doc.site.id) if old_row is not None and old_row.content_hash != digest else None
            plan = check_site(conn, doc.site.id, old if old_row is not None else None, data,
                              (stamps or {}).get(doc.site.id), prune=prune, force=force,
                              current_hash=old_row.content_hash if old_row else None, incoming_hash=digest)
            pending.append((doc, data, digest, old_row, old, plan))
        if any(p.refused for *_, p in pending):
            raise ImportRefused([p for *_, p in pending])
        for doc, data, digest, old_row, old, plan in pending:
            counts = {s: len(data.get(s) or []) for s in LIST_SECTIONS if data.get(s)}
            if plan.unchanged:
                outcomes.append(ImportOutcome(doc.site.id, created=False, unchanged=True, counts=counts))
                continue
            changes = tuple(
                SectionChange(c.section, c.added, c.removed, c.changed) for c in plan.sections if c.section in LIST_SECTIONS
            )
            _write(conn, doc, data, digest, now, (evidence or {}).get(doc.site.id),
                   stored=section_prints(old) if old is not None else None)
            # SL-T history (IEC 62443-3-2 asks for the rationale of target levels to be kept):
            # one event per zone whose SL-T changed, with before/after and the rationale. The
            # first import is the baseline: its SL-Ts are in the import event itself.
            if old is not None:
                from zonewarden.services.slt import record_slt_changes

                record_slt_changes(conn, doc.site.id, old, data, principal=principal, reason=reason, at=now)
            after: dict[str, Any] = {
                "content_hash": digest,
                "counts": counts,
                "changes": {c.section: {"added": c.added, "removed": c.removed, "changed": c.changed} for c in changes},
            }
            if plan.stamped:
                after["file_revision"] = plan.base_revision
            if plan.conflicts:  # recorded work this import was allowed to overwrite or remove
                after["overridden"] = [c.as_dict() for c in plan.conflicts]
                after["allowed_by"] = "force" if force else "prune"
            audit.append(
                conn,
                action="site.import",
                **audit.with_site_digest(principal.audit_fields, digest),  # the state it produced: audit verify
                site_id=doc.site.id,
                object_type="site",
                object_id=doc.site.id,
                reason=reason or (f"import from {source}" if source else None),
                before={"content_hash": old_row.content_hash} if old_row else None,
                after=after,
                at=now,
            )
            outcomes.append(ImportOutcome(doc.site.id, old_row is None, False, changes, counts, plan.conflicts))
    if any(not o.unchanged for o in outcomes):
        _bring_findings_up_to_date(store)
    return outcomes


def _bring_findings_up_to_date(store: Store) -> None:
    """After a write that changed an inventory (or removed a site), the findings follow, as the
    system's own write: reads never do this, so nobody's read appears as a change."""
    from zonewarden.services.advisories import ensure_current

    ensure_current(store)


def list_sites(store: Store, principal: Principal) -> list[tuple[str, str]]:
    """(id, name) of the sites ``principal`` holds a role on (every site in single-user mode)."""
    with store.read() as conn:
        rows = [(r.id, r.name) for r in conn.execute(select(sites.c.id, sites.c.name).order_by(sites.c.id))]
    visible = set(access.visible_sites(principal, [i for i, _ in rows]))
    return [(i, n) for i, n in rows if i in visible]


def resolve_site_id(store: Store, site_id: str | None, principal: Principal, operation: str = "site.read") -> str:
    """The site to work on: the one named, or the only one the principal can see; checks that
    ``principal`` may do ``operation`` on it (a denial is recorded in the audit trail).

    A site the principal holds no role on is reported exactly like one that does not exist:
    an error must not tell a stranger which sites a plant has."""
    from zonewarden.services import identity

    everything = principal.local or bool(principal.roles_on(None))
    if site_id is not None and access.visible_sites(principal, [site_id]):
        with store.read() as conn:  # the usual case (an API path, --site): one indexed lookup
            exists = conn.execute(select(sites.c.id).where(sites.c.id == site_id)).first() is not None
        if exists:
            identity.authorize(store, principal, operation, site_id)
            return site_id
    resolved = _resolve(list_sites(store, principal), site_id, everything)
    identity.authorize(store, principal, operation, resolved)
    return resolved


def _resolve(known: list[tuple[str, str]], site_id: str | None, everything: bool = True) -> str:
    """``everything``: the caller sees every site (single-user mode, a global role); otherwise
    the messages speak of the sites they hold a role on, never of the others."""
    empty = "none yet: run `zonewarden import FILE` first" if everything else "none that you hold a role on"
    if site_id is not None:
        if site_id not in {i for i, _ in known}:
            hint = ", ".join(i for i, _ in known) or empty
            raise NotFoundError(f"no site {site_id!r} in the database (sites: {hint})")
        return site_id
    if not known:
        if everything:
            raise NotFoundError("the database holds no site yet: run `zonewarden import FILE` first")
        raise NotFoundError("you hold a role on no site: ask an administrator (`zonewarden role grant`)")
    if len(known) > 1:
        raise NotFoundError("the database holds several sites; choose one with --site (" + ", ".join(i for i, _ in known) + ")")
    return known[0][0]


def site_today(store: Store, site_id: str) -> dt.date:
    """Today where the stored site is (its ``site.timezone``; UTC without one): the default date
    of an approval or decision recorded by command (issue 17.10, :mod:`zonewarden.clock`)."""
    with store.read() as conn:
        row = conn.execute(select(sites.c.data).where(sites.c.id == site_id)).first()
    if row is None:
        raise NotFoundError(f"no site {site_id!r} in the database")
    return clock.site_today((dict(row.data).get("site") or {}).get("timezone"))


TRUSTED = {"defer_references": True, "trusted": True}
"""Validation context for documents read back from the database: they were fully validated
(references included) when written, so Python-level validators that only re-derive what is
already normalised may skip their work. Engines still reject dangling references they meet."""


def _stored_json(conn: Connection, site_id: str, skip: set[str]) -> bytes | None:
    """The stored document as one JSON text, assembled from the rows' JSON without decoding
    them in Python: pydantic then validates the text in one pass (about twice as fast as
    decoding 100k rows and validating the Python objects)."""
    row = conn.execute(select(cast(sites.c.data, Text)).where(sites.c.id == site_id)).first()
    if row is None:
        return None
    head = orjson.loads(row[0])
    parts = [orjson.dumps(k) + b":" + orjson.dumps(v) for k, v in head.items()]
    for section, table in SITE_CHILD_TABLES.items():
        if section in skip:
            continue
        stmt = select(cast(table.c.data, Text)).where(table.c.site_id == site_id).order_by(table.c.seq)
        items = [r[0] for r in conn.execute(stmt)]
        if items:
            parts.append(orjson.dumps(section) + b":[" + ",".join(items).encode() + b"]")
    stmt = (
        select(site_records.c.section, cast(site_records.c.data, Text))
        .where(site_records.c.site_id == site_id)
        .order_by(site_records.c.section, site_records.c.seq)
    )
    grouped: dict[str, list[str]] = {}
    records: list[Any] = list(conn.execute(stmt))
    for section, text in records:
        if section not in skip:
            grouped.setdefault(section, []).append(text)
    for section, texts in grouped.items():
        parts.append(orjson.dumps(section) + b":[" + ",".join(texts).encode() + b"]")
    return b"{" + b",".join(parts) + b"}"


def load_document(store: Store, site_id: str, *, without: Iterable[str] = ()) -> SiteDocument:
    """The stored site as a document. ``without`` leaves list sections out (``paths`` needs no
    assets): the result is then a partial view, for reading only."""
    with store.read() as conn:
        text = _stored_json(conn, site_id, set(without))
    if text is None:
        raise NotFoundError(f"no site {site_id!r} in the database")
    with gc_paused():  # see io.sitefile.load_site
        return SiteDocument.model_validate_json(text, context=TRUSTED)


def asset_facts(store: Store, site_id: str, scope: AssetScope | None = None) -> list[AssetFacts]:
    """The stored assets projected to what the segmentation check reads, in file order; with
    ``scope``, only the assets it covers (the database filters, on the covering index).

    Typed columns only, read from one covering index: no JSON and no per-asset model
    validation. The rows were validated when they were written.
    """
    t = assets_table.c
    stmt = (
        select(t.id, t.type, t.zone_id, t.end_of_support, t.vendor_support)
        .where(t.site_id == site_id)
        .order_by(t.seq)
    )
    if scope is not None:
        stmt = stmt.where(
            or_(
                t.zone_id.is_(None),
                t.end_of_support.is_not(None),
                t.vendor_support.in_(sorted(s.value for s in scope.support)),
                t.type.in_(sorted(k.value for k in scope.types)),
            )
        )
    with store.read() as conn:
        rows = conn.execute(stmt).all()
    # Dictionary lookups instead of Enum(value) calls: this loop can run once per asset.
    types: dict[str, AssetType] = dict(AssetType._value2member_map_)  # type: ignore[arg-type]
    support: dict[str | None, SupportStatus] = dict(SupportStatus._value2member_map_)  # type: ignore[arg-type]
    support[None] = SupportStatus.UNKNOWN
    # tuple.__new__ directly: a NamedTuple's generated __new__ is a Python call per asset.
    date, new, facts = dt.date.fromisoformat, tuple.__new__, AssetFacts
    return [
        new(facts, (ident, types[kind], zone, date(eos) if eos else None, support[status]))
        for ident, kind, zone, eos, status in rows
    ]


class CheckInput(NamedTuple):
    """What ``check`` reads of a stored site (see :func:`load_for_check`)."""

    doc: SiteDocument
    """The document without its assets."""
    assets: list[AssetFacts]
    """The facts of the assets the check's rules look at (``ASSET_SCOPE``)."""
    asset_ids: frozenset[str]
    """The site's asset ids among those its waivers name."""


def load_for_check(store: Store, site_id: str) -> CheckInput:
    """What ``check`` reads: the document without its assets, the facts of the assets in the
    check's scope (on a 100k-asset site, a few thousand), and which waiver objects are assets.
    ``run_check(inp.doc, today=..., assets=inp.assets, asset_ids=inp.asset_ids)`` gives the
    same report as on the whole document."""
    from zonewarden.engines.segmentation import ASSET_SCOPE, waiver_object_ids

    doc = load_document(store, site_id, without=("assets",))
    named = sorted(waiver_object_ids(doc))
    ids: set[str] = set()
    if named:
        with store.read() as conn:
            for chunk in batched(named, 500):
                stmt = select(assets_table.c.id).where(assets_table.c.site_id == site_id, assets_table.c.id.in_(chunk))
                ids.update(r[0] for r in conn.execute(stmt))
    return CheckInput(doc, asset_facts(store, site_id, ASSET_SCOPE), frozenset(ids))


def delete_site(store: Store, site_id: str, *, principal: Principal, reason: str | None = None) -> None:
    from zonewarden.services import identity

    identity.authorize(store, principal, "site.delete", site_id)
    with store.transaction() as conn:
        row = conn.execute(select(sites.c.content_hash).where(sites.c.id == site_id).with_for_update()).first()
        if row is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        conn.execute(delete(sites).where(sites.c.id == site_id))
        audit.append(conn, action="site.delete", **principal.audit_fields, site_id=site_id,
                     object_type="site",
                     object_id=site_id, reason=reason, before={"content_hash": row.content_hash})
    _bring_findings_up_to_date(store)


def all_site_ids(store: Store) -> Iterable[str]:
    """Every stored site id (for the system's own jobs, not for a caller's listing)."""
    with store.read() as conn:
        return [r.id for r in conn.execute(select(sites.c.id).order_by(sites.c.id))]
