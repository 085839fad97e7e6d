"""Discovery and download of CSAF provider files (io.csaf.sync) against a server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import support_csaf_provider as S
from zonewarden.errors import InputError
from zonewarden.io.csaf.sync import (
    Downloaded,
    Failure,
    Fetcher,
    FetchError,
    Known,
    RemoteDocument,
    SignatureVerifier,
    SyncOptions,
    discover,
    download,
    make_rebase,
    origin_of,
    published_digest,
    resolve_listed_path,
)

FAST = SyncOptions(timeout=5, retries=1, backoff=0, workers=1, allow_insecure=True)
WHITE = "/csaf_files/OT/white/"


def fetcher_for(base: str, options: SyncOptions = FAST) -> Fetcher:
    return Fetcher({origin_of(base)}, options)


# --- listed paths and rebasing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        # CSAF 7.1.17: relative to the folder holding index.txt
        ("https://p.example/csaf/white/", "2023/a-1.json", "https://p.example/csaf/white/2023/a-1.json"),
        # CISA writes paths from its repository root
        ("https://h.example/cisagov/CSAF/develop/csaf_files/OT/white/", "csaf_files/OT/white/2019/x.json",
         "https://h.example/cisagov/CSAF/develop/csaf_files/OT/white/2019/x.json"),
        # a year folder that repeats the folder's name is still a year folder, not an overlap
        ("https://p.example/2023/", "2023/a.json", "https://p.example/2023/2023/a.json"),
        # no overlap and no year folder: plain relative resolution
        ("https://p.example/csaf/", "misc/a.json", "https://p.example/csaf/misc/a.json"),
    ],
)
def test_listed_paths_resolve_against_the_folder(base: str, path: str, expected: str) -> None:
    assert resolve_listed_path(base, path) == expected


@pytest.mark.parametrize("path", ["../secret.json", "2023/../../x.json", "/etc/x.json",
                                  "https://evil.example/a.json", "2023/a.txt", "2023/./a.json",
                                  # percent-encoded (issue 18.4): the server decodes them into ..
                                  "%2e%2e/secret.json", "2023/%2E%2E/%2e%2e/x.json", "2023%2f..%2f..%2fx.json",
                                  "%252e%252e/x.json", "2023/..%5c..%5cx.json", "%2fetc/x.json"])
def test_listed_paths_that_leave_the_folder_or_are_not_json_are_refused(path: str) -> None:
    assert resolve_listed_path("https://p.example/csaf/white/", path) is None


def test_rebase_maps_the_published_folder_onto_the_served_one() -> None:
    rb = make_rebase(f"{S.CISA_PUBLIC}/{S.FEED_NAME}", f"http://127.0.0.1:9/m{WHITE}{S.FEED_NAME}")
    assert rb is not None
    assert rb.apply(f"{S.CISA_PUBLIC}/2019/a.json") == f"http://127.0.0.1:9/m{WHITE}2019/a.json"
    # Outside the published folder nothing is mapped: the host check then refuses the link.
    assert rb.apply("https://raw.githubusercontent.com/other/a.json") == "https://raw.githubusercontent.com/other/a.json"
    assert make_rebase("https://x.example/f/feed.json", "https://x.example/f/feed.json") is None
    assert make_rebase(None, "https://x.example/f/feed.json") is None


# --- discovery ------------------------------------------------------------------------------------


@pytest.fixture
def mirror(shared_data: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return S.cisa_mirror(shared_data, tmp_path / "site", n=12)


@pytest.mark.parametrize("entry", ["", "index.txt", "changes.csv", S.FEED_NAME])
def test_every_listing_form_finds_the_same_documents(mirror, entry: str) -> None:  # type: ignore[no-untyped-def]
    with S.serve(mirror.root) as (base, _faults), fetcher_for(base) as f:
        found = discover(base + WHITE + entry, f, FAST)
    expected = [f"{base}{WHITE}{name}" for name in mirror.files]
    assert [d.url for d in found.documents] == expected
    assert found.kind == ("rolie" if entry == S.FEED_NAME else "directory")
    assert found.problems == ()
    assert all(d.updated == mirror.times[u.removeprefix(base + WHITE)] for d, u in zip(found.documents, expected,
                                                                                       strict=True))
    assert all(d.hash_urls[0] == d.url + ".sha512" and d.signature_url == d.url + ".asc" for d in found.documents)


def test_the_full_shared_cisa_listings_map_onto_the_local_server(shared_data: Path) -> None:
    """All 2,035 real entries: the feed's public links and index.txt's root-relative paths both
    land on 127.0.0.1, on the same URLs, and every listed file exists where they point."""
    root = shared_data / "csaf" / "cisa-ics"
    with S.serve(root) as (base, _faults), fetcher_for(base) as f:
        feed = discover(base + WHITE + S.FEED_NAME, f, FAST)
        folder = discover(base + WHITE, f, FAST)
    assert len(feed.documents) == len(folder.documents) == 2035
    assert {d.url for d in feed.documents} == {d.url for d in folder.documents}
    for d in feed.documents:
        assert d.url.startswith(base + WHITE)
        assert (root / d.url.removeprefix(base + "/")).is_file()


def test_provider_metadata_on_the_root_url_is_found_at_the_well_known_path(mirror) -> None:  # type: ignore[no-untyped-def]
    wk = mirror.root / ".well-known" / "csaf"
    wk.mkdir(parents=True)
    with S.serve(mirror.root) as (base, _faults):
        meta = {
            "canonical_url": "https://psirt.example.test/.well-known/csaf/provider-metadata.json",
            "metadata_version": "2.0",
            "distributions": [
                {"rolie": {"feeds": [{"tlp_label": "WHITE", "url": f"{base}{WHITE}{S.FEED_NAME}"}]}},
                {"directory_url": f"{base}{WHITE}"},
            ],
        }
        (wk / "provider-metadata.json").write_text(json.dumps(meta))
        with fetcher_for(base) as f:
            found = discover(base + "/", f, FAST)
    assert found.kind == "provider-metadata"
    assert len(found.documents) == len(mirror.files)
    assert found.problems == ()


def test_provider_metadata_may_name_another_host_and_only_that_one(mirror) -> None:  # type: ignore[no-untyped-def]
    with S.serve(mirror.root) as (base, _faults):
        port = base.rsplit(":", 1)[1]
        other = f"http://localhost:{port}"  # another origin, same test server
        (mirror.root / "provider-metadata.json").write_text(json.dumps(
            {"metadata_version": "2.0", "distributions": [{"directory_url": f"{other}{WHITE}"}]}))
        with fetcher_for(base) as f:
            found = discover(base + "/provider-metadata.json", f, FAST)
            assert origin_of(other) in found.allowed
            assert all(d.url.startswith(other) for d in found.documents)
            got = download(f, found.documents[0], None, want_signature=False, options=FAST)
            assert isinstance(got, Downloaded)
            # A host nobody named stays refused.
            with pytest.raises(FetchError, match="host not allowed"):
                f.check_origin("http://127.0.0.2:1/x.json")


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("/nothing-here/", "neither changes.csv nor index.txt"),
        (WHITE + "2023/", "neither changes.csv nor index.txt"),
        (WHITE + "missing.json", "not found"),
    ],
)
def test_urls_that_are_not_provider_listings_are_input_errors(mirror, suffix: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with S.serve(mirror.root) as (base, _faults), fetcher_for(base) as f, pytest.raises(InputError, match=message):
        discover(base + suffix, f, FAST)


def test_a_csaf_document_url_is_pointed_to_ingest(mirror) -> None:  # type: ignore[no-untyped-def]
    with S.serve(mirror.root) as (base, _faults), fetcher_for(base) as f, \
            pytest.raises(InputError, match="advisories ingest"):
        discover(base + WHITE + mirror.files[0], f, FAST)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1/csaf", "http://"])
def test_non_http_urls_are_input_errors(url: str) -> None:
    with Fetcher(set(), FAST) as f, pytest.raises(InputError, match="not an http"):
        discover(url, f, FAST)


def test_feed_entries_with_foreign_links_are_refused_at_download(mirror) -> None:  # type: ignore[no-untyped-def]
    feed_path = mirror.folder / S.FEED_NAME
    feed = json.loads(feed_path.read_text())
    feed["feed"]["entry"][0]["link"][0]["href"] = "https://evil.example/advisory.json"
    feed["feed"]["entry"][0]["content"]["src"] = "https://evil.example/advisory.json"
    feed["feed"]["entry"].append({"id": "broken", "link": [{"rel": "alternate", "href": "x"}]})
    feed_path.write_text(json.dumps(feed))
    with S.serve(mirror.root) as (base, faults), fetcher_for(base) as f:
        found = discover(base + WHITE + S.FEED_NAME, f, FAST)
        evil = next(d for d in found.documents if "evil.example" in d.url)
        got = download(f, evil, None, want_signature=False, options=FAST)
    assert isinstance(got, Failure) and got.stage == "download" and "host not allowed" in got.reason
    assert [(u.rsplit("#", 1)[1], r) for u, r in found.problems] == [
        ("/feed/entry/12", "entry has no link rel=self and no content/src: no document to fetch")]
    assert not any("evil" in p for p, _ in faults.requests)


# --- fetching -------------------------------------------------------------------------------------


def test_transient_server_errors_are_retried_with_backoff(mirror) -> None:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    with S.serve(mirror.root) as (base, faults):
        path = WHITE + mirror.files[0]
        faults.flaky[path] = 2
        with Fetcher({origin_of(base)}, SyncOptions(retries=2, backoff=0.5, allow_insecure=True), sleep=slept.append) as f:
            got = f.get(base + path, max_bytes=10**8)
        assert got.status == 200 and got.content == (mirror.folder / mirror.files[0]).read_bytes()
        assert slept == [0.5, 1.0]
        faults.flaky[path] = 5
        with Fetcher({origin_of(base)}, SyncOptions(retries=2, backoff=0, allow_insecure=True), sleep=slept.append) as f, \
                pytest.raises(FetchError, match=r"HTTP 503 \(gave up after 3 attempts\)"):
            f.get(base + path, max_bytes=10**8)


def test_a_document_over_the_size_cap_is_refused(mirror) -> None:  # type: ignore[no-untyped-def]
    with S.serve(mirror.root) as (base, _faults), fetcher_for(base) as f:
        size = (mirror.folder / mirror.files[0]).stat().st_size
        with pytest.raises(FetchError, match="exceeds the limit"):
            f.get(base + WHITE + mirror.files[0], max_bytes=size - 1)
        assert len(f.get(base + WHITE + mirror.files[0], max_bytes=size).content) == size


def test_redirects_to_another_host_are_not_followed(mirror) -> None:  # type: ignore[no-untyped-def]
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):  # type: ignore[no-untyped-def]
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/elsewhere.json" if "away" in self.path else "/ok.json")
            self.end_headers()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        with fetcher_for(base) as f:
            with pytest.raises(FetchError, match="host not allowed"):
                f.get(base + "/away", max_bytes=1000)
            with pytest.raises(FetchError, match="more than 5 redirects"):
                f.get(base + "/loop", max_bytes=1000)
    finally:
        srv.shutdown()
        srv.server_close()


# --- downloading and verifying one document --------------------------------------------------------


def _doc(base: str, rel: str, updated: str | None = None) -> RemoteDocument:
    url = f"{base}{WHITE}{rel}"
    return RemoteDocument(url, updated, (url + ".sha512", url + ".sha256"), url + ".asc")


def test_download_checks_the_published_sha512(mirror) -> None:  # type: ignore[no-untyped-def]
    name = mirror.files[0]
    with S.serve(mirror.root) as (base, _faults), fetcher_for(base) as f:
        ok = download(f, _doc(base, name), None, want_signature=True, options=FAST)
        assert isinstance(ok, Downloaded) and ok.hash_checked == ("sha512",)  # CISA publishes no .sha256
        assert ok.signature is not None and ok.signature.startswith(b"-----BEGIN PGP SIGNATURE")
        mirror.materialise(name)
        (mirror.folder / (name + ".sha512")).write_text("0" * 128 + "  x.json")
        bad = download(f, _doc(base, name), None, want_signature=False, options=FAST)
        assert isinstance(bad, Failure) and bad.stage == "hash" and "sha512 mismatch" in bad.reason
        (mirror.folder / (name + ".sha512")).write_text("not a hash")
        bad = download(f, _doc(base, name), None, want_signature=False, options=FAST)
        assert isinstance(bad, Failure) and "expected 128 hex digits" in bad.reason
        (mirror.folder / (name + ".sha512")).unlink()
        bad = download(f, _doc(base, name), None, want_signature=False, options=FAST)
        assert isinstance(bad, Failure) and bad.stage == "hash" and "no published hash" in bad.reason


def test_a_published_sha256_is_checked_too(tmp_path: Path) -> None:
    data = S.own_advisory(1)
    S.write_signed(tmp_path, "csaf_files/OT/white/2024/zw-1.json", data, None)
    (tmp_path / "csaf_files/OT/white/2024/zw-1.json.sha256").write_text("f" * 64 + "  zw-1.json\n")
    with S.serve(tmp_path) as (base, _faults), fetcher_for(base) as f:
        bad = download(f, _doc(base, "2024/zw-1.json"), None, want_signature=False, options=FAST)
    assert isinstance(bad, Failure) and "sha256 mismatch" in bad.reason


def test_conditional_requests_skip_unchanged_documents(mirror) -> None:  # type: ignore[no-untyped-def]
    name = mirror.files[0]
    with S.serve(mirror.root) as (base, faults), fetcher_for(base) as f:
        first = download(f, _doc(base, name), None, want_signature=False, options=FAST)
        assert isinstance(first, Downloaded) and first.last_modified
        known = Known(None, first.etag, first.last_modified, first.sha512)
        again = download(f, _doc(base, name), known, want_signature=False, options=FAST)
        assert isinstance(again, Downloaded) and again.not_modified and again.content == b""
        assert faults.requests[-1][1].get("If-Modified-Since") == first.last_modified
        # A server that ignores the validators: same bytes, same hash, still "not modified".
        known = Known(None, None, None, first.sha512)
        again = download(f, _doc(base, name), known, want_signature=False, options=FAST)
        assert isinstance(again, Downloaded) and again.not_modified


def test_a_dropped_connection_is_a_download_failure(mirror) -> None:  # type: ignore[no-untyped-def]
    name = mirror.files[0]
    with S.serve(mirror.root) as (base, faults), fetcher_for(base) as f:
        faults.drop.add(WHITE + name)
        bad = download(f, _doc(base, name), None, want_signature=False, options=FAST)
        assert isinstance(bad, Failure) and bad.stage == "download"
        assert "peer closed connection" in bad.reason and "gave up after 2 attempts" in bad.reason
        assert faults.gets().count(WHITE + name) == 2


# --- signatures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpg_keys():  # type: ignore[no-untyped-def]
    publisher, stranger = S.Gpg("Publisher <psirt@example.test>"), S.Gpg("Stranger <x@example.test>")
    yield publisher, stranger
    publisher.close()
    stranger.close()


def test_signatures_verify_only_with_the_supplied_key(gpg_keys) -> None:  # type: ignore[no-untyped-def]
    publisher, stranger = gpg_keys
    data = S.own_advisory(1)
    with SignatureVerifier(publisher.public_key) as v:
        assert v.verify(data, publisher.sign(data)) is None
        assert "does not verify" in (v.verify(data + b" ", publisher.sign(data)) or "")
        assert "does not verify" in (v.verify(data, stranger.sign(data)) or "")
        assert "does not verify" in (v.verify(data, b"garbage") or "")


def test_a_key_file_without_a_key_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no OpenPGP public key"):
        SignatureVerifier(b"hello", source="key.asc")


def test_signatures_verify_correctly_from_several_threads(gpg_keys) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    publisher, stranger = gpg_keys
    docs = [S.own_advisory(i) for i in range(24)]
    sigs = [(publisher if i % 3 else stranger).sign(d) for i, d in enumerate(docs)]
    with SignatureVerifier(publisher.public_key) as v, ThreadPoolExecutor(6) as pool:
        verdicts = list(pool.map(v.verify, docs, sigs))
    assert [v is None for v in verdicts] == [bool(i % 3) for i in range(24)]


H512 = "3c7c879dfacfa7faffab079b2b16bdb21cac7017b2f5eb8c08234c50ffcf63ae7c27423a12d82fec529fc9caf87c5846714206db23cd7d3580f6e2d93329b92b"


@pytest.mark.parametrize(
    "text",
    [f"{H512}  icsa-23-005-01.json", f"{H512} *icsa-23-005-01.json\n", H512, H512.upper(),
     f"SHA512 (icsa-23-005-01.json) = {H512}\n", f"SHA2-512(icsa-23-005-01.json)= {H512}"],
)
def test_hash_files_in_the_usual_tool_formats(text: str) -> None:
    assert published_digest(text.encode(), "sha512", "x.sha512") == H512


@pytest.mark.parametrize("text", ["", "nothing", H512[:-1], f"SHA256 (a.json) = {H512}", "g" * 128])
def test_hash_files_that_hold_no_digest_are_refused(text: str) -> None:
    with pytest.raises(FetchError, match="expected 128 hex digits"):
        published_digest(text.encode(), "sha512", "x.sha512")


def test_plain_http_needs_allow_insecure() -> None:
    """Issue 18.4: no request to an http:// provider unless asked for explicitly."""
    from zonewarden.io.csaf.sync import FetchError

    with Fetcher({origin_of("http://127.0.0.1:9/")}, SyncOptions(retries=0)) as f, \
            pytest.raises(FetchError, match="--allow-insecure"):
        f.get("http://127.0.0.1:9/csaf/index.txt", max_bytes=100)


def test_a_sync_has_an_overall_deadline() -> None:
    """Issue 18.4: past --deadline no further request starts (not only a per-read timeout)."""
    from zonewarden.io.csaf.sync import FetchError

    calls: list[str] = []

    def handler(request):  # type: ignore[no-untyped-def]
        calls.append(str(request.url))
        return httpx.Response(503)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    options = SyncOptions(retries=10, backoff=0, deadline=1)
    clock = [0.0]
    with Fetcher({origin_of("https://p.example/")}, options, client=client,
                 sleep=lambda s: clock.__setitem__(0, clock[0] + s)) as f:
        f._ends = 0.0  # the deadline has passed  # noqa: SLF001
        with pytest.raises(FetchError, match="deadline"):
            f.get("https://p.example/csaf/index.txt", max_bytes=100)
    assert calls == []
