"""Units behind the mandatory tests: CVSS scoring (6.1.9/6.1.10), language tags (6.1.12),
purls (6.1.13), CWE (6.1.11) and document version ordering (6.1.14-6.1.22)."""

from __future__ import annotations

import pytest

from zonewarden.io.csaf.cvss import parse_vector, properties_of, scores_v2, scores_v3, severity_v3
from zonewarden.io.csaf.identifiers import (
    cwe_problem,
    language_tag_problem,
    parse_version,
    purl_problem,
)
from zonewarden.io.csaf.model import pointer


@pytest.mark.parametrize(
    ("vector", "base", "temporal", "environmental"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, 9.8, 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, 10.0, 10.0),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5, 5.5, 5.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, 3.1, 3.1),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0, 0.0, 0.0),
        # Temporal metrics: 9.8 x 0.94 x 0.95 = 8.75 -> rounded up to 8.8.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 9.8, 8.8, 8.8),
        # Low security requirements lower the environmental score only.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:L/IR:L/AR:L", 9.8, 9.8, 8.0),
        ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, 6.4, 6.4),
    ],
)
def test_cvss_v3_scores(vector: str, base: float, temporal: float, environmental: float) -> None:
    parsed = parse_vector(vector)
    assert parsed is not None
    assert scores_v3(parsed) == {
        "baseScore": base, "temporalScore": temporal, "environmentalScore": environmental
    }


def test_cvss_v2_scores_match_the_guide_example() -> None:
    # CVSS v2 guide, section 3.3.1 (CVE-2002-0392): base 7.8, temporal 6.4, environmental 9.2.
    parsed = parse_vector("AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H")
    assert parsed is not None and parsed.version == "2.0"
    assert scores_v2(parsed) == {"baseScore": 7.8, "temporalScore": 6.4, "environmentalScore": 9.2}
    simple = parse_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P")
    assert simple is not None and scores_v2(simple)["baseScore"] == 7.5


def test_cvss_severity_bands() -> None:
    assert [severity_v3(s) for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        "NONE", "LOW", "LOW", "MEDIUM", "MEDIUM", "HIGH", "HIGH", "CRITICAL", "CRITICAL"
    ]


@pytest.mark.parametrize(
    "vector",
    ["", "CVSS:3.1/AV:N", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV:N/AC:L/Au:N/C:P/I:P", None, 7],
)
def test_invalid_vectors_do_not_parse(vector: object) -> None:
    assert parse_vector(vector) is None


def test_vector_implies_json_properties() -> None:
    parsed = parse_vector("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U")
    assert parsed is not None
    props = properties_of(parsed)
    assert props["attackVector"] == "ADJACENT_NETWORK"
    assert props["exploitCodeMaturity"] == "UNPROVEN"
    assert props["remediationLevel"] == "NOT_DEFINED"


@pytest.mark.parametrize(
    "tag", ["en", "en-US", "EN-us", "de-CH-1996", "zh-Hant-TW", "sr-Latn-RS", "es-419",
            "x-private", "i-klingon", "qaa", "en-a-bbb-x-a-ccc", "zh-yue-HK"],
)
def test_valid_language_tags(tag: str) -> None:
    assert language_tag_problem(tag) is None


@pytest.mark.parametrize(
    ("tag", "why"),
    [("EZ", "language subtag 'ez'"), ("english", "language subtag"), ("en-ZY", "region"),
     ("en--US", "well-formed"), ("en-US-a", "extension 'a' has no subtags"),
     ("zh-Abcd", "script"), ("en-x", "private-use")],
)
def test_invalid_language_tags(tag: str, why: str) -> None:
    problem = language_tag_problem(tag)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    "purl",
    ["pkg:pypi/django@1.11.1", "pkg:maven/org.apache.commons/io@1.3.4?type=jar#sub/path",
     "pkg:npm/%40angular/animation@12.3.1", "pkg:generic/openssl", "pkg:deb/debian/curl?arch=i386"],
)
def test_valid_purls(purl: str) -> None:
    assert purl_problem(purl) is None


@pytest.mark.parametrize(
    ("purl", "why"),
    [("pkg:maven/@1.3.4", "no name"), ("https://example.com/x", "scheme"), ("pkg:/name", "no type"),
     ("pkg:1abc/name", "type"), ("pkg:npm/a?k", "no value"), ("pkg:npm/a//b", "namespace"),
     ("pkg:npm/a@", "no version"), ("pkg:npm/a?k=1&k=2", "twice")],
)
def test_invalid_purls(purl: str, why: str) -> None:
    problem = purl_problem(purl)
    assert problem is not None and why in problem


def test_cwe_names_are_checked_against_the_catalogue() -> None:
    assert cwe_problem("CWE-121", "Stack-based Buffer Overflow") is None
    assert cwe_problem(
        "CWE-79", "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"
    ) is None
    assert "does not match CWE-79" in cwe_problem("CWE-79", "Improper Input Validation")
    assert "not a weakness" in cwe_problem("CWE-99999999", "Made up")


def test_semantic_version_precedence() -> None:
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"]
    versions = [parse_version(v) for v in order]
    assert all(v is not None and v.scheme == "semver" for v in versions)
    keys = [v.key() for v in versions]  # type: ignore[union-attr]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert parse_version("1.0.0+build.5").key() == parse_version("1.0.0").key()  # type: ignore[union-attr]


def test_integer_versions_and_rejects() -> None:
    three = parse_version("3")
    assert three is not None and three.scheme == "int" and not three.is_zero
    assert parse_version("0").is_zero  # type: ignore[union-attr]
    for bad in ("01", "1.0", "v1", "1.0.0-", "", None):
        assert parse_version(bad) is None


def test_pointer_escapes_rfc6901() -> None:
    assert pointer() == ""
    assert pointer("a/b", "m~n", 0) == "/a~1b/m~0n/0"
