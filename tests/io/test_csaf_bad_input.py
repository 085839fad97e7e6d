"""read_csaf on hand-made documents: a valid one, and every kind of bad input we promise to
survive (truncated, wrong types, duplicate or dangling ids, deep nesting, huge strings,
not CSAF at all). Bad input never raises; it yields a clear error or deviations."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from zonewarden.io.csaf import Limits, read_csaf
from zonewarden.io.csaf import schema as schema_mod


def minimal_doc() -> dict[str, Any]:
    """A small CSAF 2.0 security advisory that passes every check (written for these tests)."""
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "lang": "en-US",
            "publisher": {
                "category": "vendor",
                "name": "Example Automation",
                "namespace": "https://example.com",
            },
            "references": [
                {"category": "self", "summary": "This advisory", "url": "https://example.com/sa-1"}
            ],
            "title": "Stack overflow in Example PLC web server",
            "tracking": {
                "current_release_date": "2024-03-02T09:00:00.000Z",
                "id": "EXA-SA-2024-001",
                "initial_release_date": "2024-02-01T09:00:00.000Z",
                "revision_history": [
                    {"date": "2024-02-01T09:00:00.000Z", "number": "1", "summary": "First."},
                    {"date": "2024-03-02T09:00:00.000Z", "number": "2", "summary": "Fix out."},
                ],
                "status": "final",
                "version": "2",
            },
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": "Example Automation",
                    "branches": [
                        {
                            "category": "product_name",
                            "name": "PLC 400",
                            "branches": [
                                {
                                    "category": "product_version",
                                    "name": "3.1.0",
                                    "product": {"name": "PLC 400 3.1.0", "product_id": "PLC-310"},
                                },
                                {
                                    "category": "product_version",
                                    "name": "3.2.0",
                                    "product": {"name": "PLC 400 3.2.0", "product_id": "PLC-320"},
                                },
                            ],
                        }
                    ],
                }
            ],
            "product_groups": [{"group_id": "G-OLD", "product_ids": ["PLC-310", "PLC-320"]}],
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2024-0001",
                "cwe": {"id": "CWE-121", "name": "Stack-based Buffer Overflow"},
                "notes": [{"category": "description", "text": "A long URL crashes the server."}],
                "product_status": {"known_affected": ["PLC-310"], "fixed": ["PLC-320"]},
                "remediations": [
                    {"category": "vendor_fix", "details": "Update to 3.2.0.", "product_ids": ["PLC-310"]}
                ],
                "scores": [
                    {
                        "products": ["PLC-310"],
                        "cvss_v3": {
                            "version": "3.1",
                            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                            "baseScore": 9.8,
                            "baseSeverity": "CRITICAL",
                        },
                    }
                ],
            }
        ],
    }


def read(doc: Any, **kwargs: Any):
    return read_csaf(orjson.dumps(doc), source="advisory.json", **kwargs)


def test_minimal_document_passes_strict_mode() -> None:
    result = read(minimal_doc(), strict=True)
    assert result.deviations == ()
    assert result.accepted and result.error is None
    assert result.tracking_id == "EXA-SA-2024-001"
    assert result.tracking_version == "2"
    assert result.publisher == "Example Automation"
    assert result.document is not None and result.document["document"]["title"].startswith("Stack")


def test_truncated_json_is_rejected_with_position() -> None:
    data = orjson.dumps(minimal_doc())[:-40]
    result = read_csaf(data, source="feed/trunc.json")
    assert not result.accepted and result.document is None
    assert result.error.startswith("feed/trunc.json: not well-formed JSON")
    assert "line" in result.error or "char" in result.error


def test_non_utf8_and_empty_input_are_rejected() -> None:
    assert not read_csaf(b"", source="empty.json").accepted
    result = read_csaf(b'{"document": "\xff"}', source="latin1.json")
    assert not result.accepted and "latin1.json" in result.error


@pytest.mark.parametrize("top", [[], "text", 3, None])
def test_top_level_must_be_an_object(top: Any) -> None:
    result = read(top)
    assert not result.accepted
    assert "top level is a JSON" in result.error


def test_non_csaf_json_is_rejected_as_not_csaf() -> None:
    result = read({"name": "my-package", "version": "1.0.0", "dependencies": {}})
    assert not result.accepted
    assert result.error == "advisory.json: /document: missing or not an object: this is not a CSAF document"
    # The schema deviations are still reported, for whoever wants to know more.
    assert "schema" in result.test_ids


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("id", None, "/document/tracking/id"),
        ("id", 42, "/document/tracking/id"),
        ("id", "  ", "/document/tracking/id"),
        ("version", ["2"], "/document/tracking/version"),
    ],
)
def test_unusable_tracking_is_fatal_even_in_lenient_mode(field: str, value: Any, pointer: str) -> None:
    doc = minimal_doc()
    if value is None:
        del doc["document"]["tracking"][field]
    else:
        doc["document"]["tracking"][field] = value
    result = read(doc)
    assert not result.accepted
    assert result.error.startswith(f"advisory.json: {pointer}: ")


@pytest.mark.parametrize(
    ("path", "value", "pointer"),
    [
        (("product_tree",), ["not", "a", "tree"], "/product_tree"),
        (("product_tree", "branches"), {"category": "vendor"}, "/product_tree/branches"),
        (("vulnerabilities",), {"cve": "CVE-2024-0001"}, "/vulnerabilities"),
        (("vulnerabilities", 0), "CVE-2024-0001", "/vulnerabilities/0"),
        (("vulnerabilities", 0, "product_status"), ["PLC-310"], "/vulnerabilities/0/product_status"),
    ],
)
def test_uninterpretable_shapes_are_fatal(path: tuple, value: Any, pointer: str) -> None:
    doc = minimal_doc()
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    result = read(doc)
    assert not result.accepted
    assert result.error.startswith(f"advisory.json: {pointer}: ")


def test_wrong_types_elsewhere_are_lenient_deviations_not_crashes() -> None:
    doc = minimal_doc()
    doc["vulnerabilities"][0]["scores"][0]["products"] = "PLC-310"  # should be an array
    doc["vulnerabilities"][0]["remediations"][0]["product_ids"] = [{"id": "PLC-310"}]
    doc["document"]["title"] = 7
    doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"] = "PLC-310"
    result = read(doc)
    assert result.accepted
    pointers = {d.pointer for d in result.deviations if d.test_id == "schema"}
    assert "/document/title" in pointers
    assert "/vulnerabilities/0/scores/0/products" in pointers
    assert not read(doc, strict=True).accepted


def test_duplicate_product_id_is_6_1_2() -> None:
    doc = minimal_doc()
    versions = doc["product_tree"]["branches"][0]["branches"][0]["branches"]
    versions[1]["product"]["product_id"] = "PLC-310"
    del doc["product_tree"]["product_groups"]  # it listed PLC-320, which no longer exists
    doc["vulnerabilities"][0]["product_status"]["fixed"] = ["PLC-310"]
    result = read(doc)
    assert result.accepted  # lenient: recorded, not fatal
    devs = [d for d in result.deviations if d.test_id == "6.1.2"]
    assert [d.pointer for d in devs] == [
        "/product_tree/branches/0/branches/0/branches/1/product/product_id"
    ]
    assert "/product_tree/branches/0/branches/0/branches/0/product/product_id" in devs[0].message
    # The same product both affected and fixed contradicts itself (6.1.6).
    assert "6.1.6" in result.test_ids
    strict = read(doc, strict=True)
    assert not strict.accepted
    assert strict.test_ids == {"6.1.2", "6.1.6"}
    assert strict.error.startswith("advisory.json: /product_tree/branches/0/branches/0/branches/1/")


def test_dangling_product_and_group_references() -> None:
    doc = minimal_doc()
    vuln = doc["vulnerabilities"][0]
    vuln["product_status"]["known_affected"].append("PLC-999")
    vuln["remediations"].append(
        {"category": "mitigation", "details": "Block port 80.", "group_ids": ["G-NONE"]}
    )
    vuln["scores"][0]["products"].append("PLC-998")
    result = read(doc)
    assert result.accepted
    missing = {(d.test_id, d.pointer) for d in result.deviations}
    assert ("6.1.1", "/vulnerabilities/0/product_status/known_affected/1") in missing
    assert ("6.1.1", "/vulnerabilities/0/scores/0/products/1") in missing
    assert ("6.1.4", "/vulnerabilities/0/remediations/1/group_ids/0") in missing


def test_relationship_reference_to_undefined_product_points_at_the_field() -> None:
    doc = minimal_doc()
    doc["product_tree"]["relationships"] = [
        {
            "category": "installed_on",
            "product_reference": "PLC-310",
            "relates_to_product_reference": "HW-1",
            "full_product_name": {"name": "PLC 3.1.0 on HW-1", "product_id": "PLC-310-HW1"},
        }
    ]
    result = read(doc)
    assert [d.pointer for d in result.deviations if d.test_id == "6.1.1"] == [
        "/product_tree/relationships/0/relates_to_product_reference"
    ]


def test_deep_nesting_is_rejected_with_pointer() -> None:
    doc = minimal_doc()
    deep: Any = "bottom"
    for _ in range(200):
        deep = {"x": deep}
    doc["document"]["notes"] = [{"category": "general", "text": "t", "x_extra": deep}]
    result = read(doc)
    assert not result.accepted and result.document is None
    assert result.error.startswith("advisory.json: /document/notes/0/x_extra/x/x/")
    assert "nesting deeper than 64" in result.error


def test_pathological_nesting_fails_in_the_parser_not_in_python() -> None:
    result = read_csaf(b"[" * 5000 + b"]" * 5000, source="bomb.json")
    assert not result.accepted
    assert result.error.startswith("bomb.json: not well-formed JSON: depth limit exceeded")


def test_deep_branches_within_the_limit_are_fine_and_beyond_are_rejected() -> None:
    def with_depth(levels: int) -> dict[str, Any]:
        doc = minimal_doc()
        branch: dict[str, Any] = {"category": "product_version", "name": "3.1.0",
                                  "product": {"name": "PLC 400 3.1.0", "product_id": "PLC-310"}}
        for i in range(levels):
            branch = {"category": "product_family", "name": f"family {i}", "branches": [branch]}
        versions = doc["product_tree"]["branches"][0]["branches"][0]["branches"]
        versions[0] = branch
        return doc

    assert read(with_depth(20), strict=True).accepted
    assert not read(with_depth(40)).accepted
    assert read(with_depth(40), limits=Limits(max_depth=128), strict=True).accepted


def test_multi_megabyte_string_is_rejected() -> None:
    doc = minimal_doc()
    doc["vulnerabilities"][0]["notes"][0]["text"] = "A" * 3_000_000
    result = read(doc)
    assert not result.accepted
    assert result.error.startswith("advisory.json: /vulnerabilities/0/notes/0/text: string of 3,000,000")
    # A huge key is caught too.
    doc = minimal_doc()
    doc["document"]["x" * 1_500_000] = 1
    assert "object key" in read(doc).error


def test_file_over_size_limit_is_rejected_before_parsing() -> None:
    data = b" " * 100 + orjson.dumps(minimal_doc())
    result = read_csaf(data, source="big.json", limits=Limits(max_bytes=1000))
    assert not result.accepted and result.document is None
    assert result.error.startswith("big.json: file of ")
    assert "exceeds the limit of 1,000" in result.error


def test_bytes_are_required() -> None:
    with pytest.raises(TypeError):
        read_csaf("{}", source="x")  # type: ignore[arg-type]


def test_missing_schema_is_a_recorded_deviation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_mod, "compiled", lambda: None)
    lenient = read(minimal_doc())
    assert lenient.accepted
    (dev,) = lenient.deviations
    assert dev.test_id == "schema" and dev.message.startswith("schema not checked")
    assert not read(minimal_doc(), strict=True).accepted


def test_schema_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(schema_mod.ENV_SCHEMA_DIR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="ZONEWARDEN_CSAF_SCHEMA_DIR"):
        schema_mod.find_schema_files()


def test_schema_dir_from_shared_data(monkeypatch: pytest.MonkeyPatch, shared_data) -> None:
    monkeypatch.setenv(schema_mod.ENV_SCHEMA_DIR, str(shared_data / "csaf" / "oasis" / "csaf_2.0"))
    files = schema_mod.find_schema_files()
    assert files is not None and files.origin == "env"


def test_schema_falls_back_to_shared_data_without_the_package(
    monkeypatch: pytest.MonkeyPatch, shared_data
) -> None:
    monkeypatch.delenv(schema_mod.ENV_SCHEMA_DIR, raising=False)
    monkeypatch.setattr(schema_mod, "_layout_package", lambda: None)
    files = schema_mod.find_schema_files()
    assert files is not None and files.origin == "shared"
    assert files.csaf == shared_data / "csaf" / "oasis" / "csaf_2.0" / "json_schema" / "csaf_json_schema.json"


def test_schema_comes_from_the_csaf_package_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(schema_mod.ENV_SCHEMA_DIR, raising=False)
    files = schema_mod.find_schema_files()
    assert files is not None and files.origin == "package:csaf"


def test_deviations_are_sorted_and_deterministic() -> None:
    doc = minimal_doc()
    vuln = doc["vulnerabilities"][0]
    vuln["product_status"]["known_affected"] += ["B", "A"]
    vuln["scores"][0]["cvss_v3"]["baseScore"] = 5.0
    doc["document"]["lang"] = "zz"
    first = read(doc).deviations
    assert first == read(copy.deepcopy(doc)).deviations
    ids = [d.test_id for d in first]
    assert ids == sorted(ids, key=lambda t: tuple(int(p) for p in t.split(".")))
    assert {"6.1.1", "6.1.9", "6.1.12"} <= set(ids)
