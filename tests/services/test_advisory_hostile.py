"""Issue 18 fault 3: a malformed advisory is rejected on its own, with a JSON pointer, and never
stops the batch. Real CISA documents are mutated (hypothesis) at the places product flattening
reads: wrong types, empty ids, over-long names."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonewarden.io.csaf.shape import shape_problem
from zonewarden.services import advisories as svc
from zonewarden.services.principal import local_principal

_SAMPLES = (
    "csaf/cisa-ics/csaf_files/OT/white/2019/icsa-19-038-02.json",
    "csaf/cisa-ics/csaf_files/OT/white/2019/icsa-19-192-04.json",
    "csaf/cisa-ics/csaf_files/OT/white/2019/icsma-19-190-01.json",
)
_BAD_VALUES = ([], "a string", 1.5, "", "x" * 30_000, None, {}, True, [1.5], [""], [[]], {"k": []})


def _docs(shared_data: Path) -> list[dict[str, Any]]:
    docs = []
    for rel in _SAMPLES:
        path = shared_data / rel
        if path.is_file():
            docs.append(json.loads(path.read_bytes()))
    if not docs:
        pytest.skip(f"none of the sample CISA documents is under {shared_data}")
    return docs


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position under product_tree and vulnerabilities (where flattening reads)."""
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            if path or k in ("product_tree", "vulnerabilities"):
                out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> list[tuple[dict[str, Any], list[tuple[Any, ...]]]]:
    return [(d, _paths(d)) for d in _docs(shared_data)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_cisa_documents_never_raise(samples, data) -> None:  # type: ignore[no-untyped-def]
    """0 tracebacks: each mutated document is prepared as stored or rejected with a pointer."""
    doc, paths = data.draw(st.sampled_from(samples))
    mutated = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        try:
            _set(mutated, path, data.draw(st.sampled_from(_BAD_VALUES)))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the parent
    problem = shape_problem(mutated)
    assert problem is None or problem[0].startswith("/")
    from zonewarden.engines.products import advisory_title, flatten_advisory, flattens_leniently
    from zonewarden.errors import InputError

    if problem is None:  # what the check lets through, flattening must read (or refuse by InputError)
        # Ingest with no site stores a document without flattening it when flattens_leniently
        # says flattening cannot refuse it (issue 17, speed 1): that promise must hold.
        sure = flattens_leniently(mutated)
        try:
            flat = flatten_advisory(mutated, source="m.json")
        except InputError:
            assert not sure, "flattens_leniently promised a document that flattening refuses"
        else:
            assert advisory_title(mutated) == flat.title


def test_a_batch_with_malformed_documents_stores_the_good_ones(store, samples) -> None:  # type: ignore[no-untyped-def]
    good = [d for d, _ in samples]
    bad = []
    for value, where in (
        ([], ("product_tree", "branches", 0, "category")),
        ("a string", ("vulnerabilities", 0, "product_status", "known_affected")),
        (1.5, ("product_tree", "branches", 0)),
        ("", ("product_tree", "branches", 0, "branches", 0, "branches", 0, "product", "product_id")),
        ("n" * 30_000, ("product_tree", "branches", 0, "name")),
    ):
        d = copy.deepcopy(good[0])
        d["document"]["tracking"]["id"] += "-bad"
        try:
            _set(d, where, value)
        except (KeyError, IndexError, TypeError):
            _set(d, where[:2], value)
        bad.append((f"bad-{len(bad)}.json", json.dumps(d).encode()))
    items = bad[:3] + [(f"good-{i}.json", json.dumps(d).encode()) for i, d in enumerate(good)] + bad[3:]
    report = svc.ingest_bytes(store, items, principal=local_principal())
    by_source = {r.source: r for r in report.results}
    for source, _ in bad:
        r = by_source[source]
        assert r.outcome == "rejected", r
        assert r.error is not None and f"{source}: /" in r.error, r.error
    for i in range(len(good)):
        assert by_source[f"good-{i}.json"].outcome == "new"
    assert "/product_tree/branches/0/category" in by_source["bad-0.json"].error  # type: ignore[operator]
    assert "/vulnerabilities/0/product_status/known_affected" in by_source["bad-1.json"].error  # type: ignore[operator]


def test_same_version_with_other_content_is_a_conflict_and_the_genuine_stays_current(store, samples) -> None:  # type: ignore[no-untyped-def]
    """Issue 18.4: a forged file with the stored tracking id and version does not replace the
    current revision; both digests are recorded; the genuine file again stays unchanged."""
    import hashlib

    from sqlalchemy import select

    from zonewarden.store.advisory_tables import advisories
    from zonewarden.store.tables import audit_events

    genuine = json.dumps(samples[0][0]).encode()
    forged_doc = copy.deepcopy(samples[0][0])
    forged_doc["document"]["title"] = "forged"
    forged = json.dumps(forged_doc).encode()
    assert svc.ingest_bytes(store, [("genuine.json", genuine)], principal=local_principal()).results[0].outcome == "new"
    r = svc.ingest_bytes(store, [("forged.json", forged)], principal=local_principal()).results[0]
    assert r.outcome == "rejected"
    assert r.error is not None and "conflicting revision" in r.error and "/document/tracking/version" in r.error
    assert hashlib.sha256(genuine).hexdigest() in r.error and hashlib.sha256(forged).hexdigest() in r.error
    with store.read() as conn:
        rows = conn.execute(select(advisories.c.sha256, advisories.c.current)).all()
        events = conn.execute(select(audit_events.c.action)).scalars().all()
    assert rows == [(hashlib.sha256(genuine).hexdigest(), True)]
    assert "advisory.conflict" in events
    again = svc.ingest_bytes(store, [("genuine.json", genuine), ("forged.json", forged)], principal=local_principal()).results
    assert [x.outcome for x in again] == ["unchanged", "rejected"]


def test_a_folder_of_junk_is_not_stored_and_ingest_exits_2(tmp_path: Path) -> None:
    """Issue 18.4: JSON that is not a CSAF advisory is refused by pointer; nothing stored is exit 2."""
    from click.testing import CliRunner

    from zonewarden.cli.main import cli

    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.json").write_text('{"document": {"tracking": {"id": "x", "version": "1"}}}')
    (junk / "b.json").write_text('{"document": {"csaf_version": "2.0", "tracking": {"id": "y", "version": "1"}}}')
    (junk / "c.json").write_bytes(b"\xff\xfe not json")
    (tmp_path / "empty").mkdir()
    env = {"ZONEWARDEN_DB": f"sqlite:///{tmp_path / 'zw.db'}", "ZONEWARDEN_ACTOR": "tester"}
    result = CliRunner().invoke(cli, ["advisories", "ingest", str(junk), "--format", "json"], env=env)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    out = json.loads(result.stdout)
    assert [r["outcome"] for r in out["results"]] == ["rejected"] * 3
    errors = {Path(r["source"]).name: r["error"] for r in out["results"]}
    assert "/document/csaf_version" in errors["a.json"]
    assert "/document/category" in errors["b.json"]
    listed = CliRunner().invoke(cli, ["advisories", "list", "--format", "json"], env=env)
    assert json.loads(listed.stdout) == []
    empty = CliRunner().invoke(cli, ["advisories", "ingest", str(tmp_path / "empty")], env=env)
    assert empty.exit_code == 2 and "nothing stored" in empty.output


def test_no_site_ingest_refuses_what_flattening_refuses(store, samples) -> None:  # type: ignore[no-untyped-def]
    """With no site stored, ingest no longer flattens every document (issue 17, speed 1); the
    documents flattening refuses must be refused all the same, with the same message."""
    base = samples[0][0]
    null_tree = copy.deepcopy(base)
    null_tree["product_tree"] = None  # flattening: "'product_tree' must be an object"
    rel_only = copy.deepcopy(base)
    rel_only["product_tree"] = {"relationships": [{"category": "installed_on", "product_reference": "CSAFPID-9",
                                                   "relates_to_product_reference": "CSAFPID-8",
                                                   "full_product_name": {"name": "x on y", "product_id": "CSAFPID-7"}}]}
    no_tree = copy.deepcopy(base)
    del no_tree["product_tree"]
    for i, d in enumerate((null_tree, rel_only, no_tree)):
        d["document"]["tracking"]["id"] += f"-{i}"
    items = [(f"t{i}.json", json.dumps(d).encode()) for i, d in enumerate((null_tree, rel_only, no_tree))]
    report = svc.ingest_bytes(store, items, principal=local_principal())
    outcomes = [r.outcome for r in report.results]
    assert outcomes == ["rejected", "rejected", "new"], report.results
    assert "cannot read the advisory's products" in (report.results[0].error or "")
    assert "cannot read the advisory's products" in (report.results[1].error or "")
