"""``zonewarden psirt``: the supplier's vulnerability disclosure process (issue 16).

Thin commands over ``services.psirt`` (cases, register, policy) and ``services.psirt_publish``
(CSAF authoring and the provider folder). See docs/psirt.md.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from zonewarden.cli.common import (
    EXIT_FINDINGS,
    caller,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    safe_text,
)
from zonewarden.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

EPILOG = """\b
A whole case:
  zonewarden psirt product add flowctl --vendor ACME --name "FlowCtl PLC" --version 1.0 --version 2.0 --version 2.1
  zonewarden psirt intake report.json
  zonewarden psirt triage PSIRT-2026-0001 --owner ana
  zonewarden psirt validate PSIRT-2026-0001
  zonewarden psirt embargo PSIRT-2026-0001 --until 2027-01-15T09:00:00Z --member carl --party CERT@VDE
  zonewarden psirt cve PSIRT-2026-0001 CVE-2026-40001 --state reserved
  zonewarden psirt affects PSIRT-2026-0001 --product flowctl --versions "<2.1" --fixed 2.1
  zonewarden psirt assess PSIRT-2026-0001 --summary "..." --cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
  zonewarden psirt release PSIRT-2026-0001
  zonewarden psirt publish PSIRT-2026-0001 --out site/ --base-url https://psirt.acme.example --signing-key key.asc
"""


def _when(value: str | None, option: str) -> dt.datetime | None:
    """A date (00:00 UTC) or an ISO date-time with an offset."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{option} {value!r}: write YYYY-MM-DD or an ISO date-time with offset "
                         "(2027-01-15T09:00:00Z)") from None
    if when.tzinfo is None:
        raise InputError(f"{option} {value!r}: give the time zone (e.g. Z or +01:00)")
    return when


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None


def _case_out(case: Any, fmt: str = "table", *, done: str | None = None) -> None:
    """What a step did (``done``) and the case's state afterwards."""
    if fmt == "json":
        emit_json({"reference": case.reference, "state": str(case.state)})
    elif done:
        note(f"{case.reference}: {done} (case {case.state})")
    else:
        note(f"{case.reference}: {case.state}")


@click.group("psirt", epilog=EPILOG)
def psirt() -> None:
    """The supplier's PSIRT: vulnerability reports, cases, embargo, CVEs, CSAF publication.

    Needs the psirt-analyst role (psirt-manager to publish) on every site, or single-user mode.
    """


@psirt.command("intake")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@format_option("table", "json")
@db_option
@handle_errors
def intake_cmd(file: Path, fmt: str, db_url: str | None) -> None:
    """Record a vulnerability report from a JSON or YAML FILE and acknowledge it with a reference.

    The file has reporter (name, contact, organisation, encryption_key, credit), product,
    version, title, description and attachments (name, media_type, content: text, or base64);
    at most 2 MiB, each attachment at most 256 KiB. Problems are named by JSON pointer.

    \b
    Example:
      zonewarden psirt intake report.json --format json
    """
    from zonewarden.services import psirt as svc

    report = svc.read_report_file(file)
    store, principal = caller(db_url)
    got = svc.intake(store, report, principal=principal, source=file.name)
    if fmt == "json":
        emit_json(got.as_dict())
    else:
        emit_rows([got.as_dict()], ["reference", "acknowledge_by", "status_secret"], "table")
        note("give the reporter the reference and the status secret (shown once)")
        note(got.encryption)


@psirt.command("list")
@format_option("table", "json", "csv")
@db_option
@handle_errors
def list_cmd(fmt: str, db_url: str | None) -> None:
    """List the cases; an embargoed case you are not inside shows only its reference and state.

    \b
    Example:
      zonewarden psirt list --format json
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    rows = svc.list_cases(store, principal=principal)
    emit_rows(rows, ["reference", "state", "product", "title", "owners", "embargo_until", "overdue"], fmt,
              title="PSIRT cases")
    if any(r.get("overdue") for r in rows):
        sys.exit(EXIT_FINDINGS)


@psirt.command("show")
@click.argument("reference")
@db_option
@handle_errors
def show_cmd(reference: str, db_url: str | None) -> None:
    """Show one case as JSON (its outline only if it is embargoed and you are not inside).

    \b
    Example:
      zonewarden psirt show PSIRT-2026-0001
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    emit_json(svc.show_case(store, reference, principal=principal))


@psirt.command("attachment")
@click.argument("reference")
@click.argument("index", type=click.IntRange(min=0))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write the attachment to (its bytes as received; never opened by zonewarden).")
@db_option
@handle_errors
def attachment_cmd(reference: str, index: int, output: Path, db_url: str | None) -> None:
    """Save attachment INDEX (0 = first) of a case to a file.

    \b
    Example:
      zonewarden psirt attachment PSIRT-2026-0001 0 -o poc.txt
    """
    from zonewarden.io.atomic import write_atomic
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    att, data = svc.attachment(store, reference, index, principal=principal)
    write_atomic(output, data)
    note(f"wrote {output} ({len(data)} bytes, {safe_text(att.media_type, one_line=True)})")


@psirt.command("triage")
@click.argument("reference")
@click.option("--owner", "owners", multiple=True, metavar="USER", help="Case owner (repeat; default: you).")
@db_option
@handle_errors
def triage_cmd(reference: str, owners: tuple[str, ...], db_url: str | None) -> None:
    """Acknowledge a received report and start triage (received -> triage), with its owners.

    \b
    Example:
      zonewarden psirt triage PSIRT-2026-0001 --owner ana --owner ben
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    _case_out(svc.acknowledge(store, reference, principal=principal, owners=owners))


@psirt.command("owners")
@click.argument("reference")
@click.option("--add", "add", multiple=True, metavar="USER")
@click.option("--remove", "remove", multiple=True, metavar="USER")
@db_option
@handle_errors
def owners_cmd(reference: str, add: tuple[str, ...], remove: tuple[str, ...], db_url: str | None) -> None:
    """Add or remove case owners.

    \b
    Example:
      zonewarden psirt owners PSIRT-2026-0001 --add carl --remove ana
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    case = svc.set_owners(store, reference, principal=principal, add=add, remove=remove)
    note(f"{case.reference}: owners {', '.join(case.owners) or '(none)'}")


def _transition(name: str, state: str, doc: str, *, needs_reason: bool = False) -> None:
    @click.argument("reference")
    @click.option("--reason", default=None, required=needs_reason, help="Why (recorded; told to the reporter for a rejection).")
    @db_option
    @handle_errors
    def cmd(reference: str, reason: str | None, db_url: str | None) -> None:
        from zonewarden.domain.psirt import CaseState
        from zonewarden.services import psirt as svc

        store, principal = caller(db_url)
        _case_out(svc.transition(store, reference, CaseState(state), principal=principal, reason=reason))

    cmd.__doc__ = doc
    psirt.command(name)(cmd)


_transition("validate", "validated", "Confirm the vulnerability (triage -> validated).\n\n\b\nExample:\n  zonewarden psirt validate PSIRT-2026-0001")
_transition("reject", "rejected", "Reject the report with a reason (received/triage -> rejected).\n\n\b\nExample:\n  zonewarden psirt reject PSIRT-2026-0001 --reason \"not reproducible on 2.0\"", needs_reason=True)
_transition("reopen", "triage", "Reopen a rejected case (rejected -> triage).\n\n\b\nExample:\n  zonewarden psirt reopen PSIRT-2026-0001 --reason \"new PoC\"")
_transition("remediate", "remediation", "Start remediation (validated -> remediation).\n\n\b\nExample:\n  zonewarden psirt remediate PSIRT-2026-0001")
_transition("release", "coordinated_release", "Move to the coordinated release (needs affected versions and the assessment).\n\n\b\nExample:\n  zonewarden psirt release PSIRT-2026-0001")
_transition("close", "closed", "Close a published or rejected case.\n\n\b\nExample:\n  zonewarden psirt close PSIRT-2026-0001")


@psirt.command("embargo")
@click.argument("reference")
@click.option("--until", "until", required=True, metavar="WHEN", help="End of the embargo (YYYY-MM-DD or ISO date-time with offset).")
@click.option("--member", "members", multiple=True, metavar="USER", help="User inside the embargo (repeat).")
@click.option("--party", "parties", multiple=True, metavar="NAME", help="Outside party inside the embargo (repeat).")
@db_option
@handle_errors
def embargo_cmd(reference: str, until: str, members: tuple[str, ...], parties: tuple[str, ...], db_url: str | None) -> None:
    """Set the embargo date and who is inside it; details stay hidden from everyone else.

    \b
    Example:
      zonewarden psirt embargo PSIRT-2026-0001 --until 2027-01-15T09:00:00Z --member carl --party CERT@VDE
    """
    from zonewarden.services import psirt as svc

    when = _when(until, "--until")
    assert when is not None
    store, principal = caller(db_url)
    case = svc.set_embargo(store, reference, when, principal=principal, members=members, parties=parties)
    note(f"{case.reference}: embargo until {when.isoformat()}")


@psirt.command("coordinate")
@click.argument("reference")
@click.option("--party", required=True, metavar="NAME")
@click.option("--kind", required=True, type=click.Choice(["cert", "isac", "integrator", "customer", "supplier", "reporter", "other"]))
@click.option("--told", required=True, metavar="TEXT", help="What the party was told or given.")
@click.option("--at", "at", default=None, metavar="WHEN", help="When (default: now).")
@db_option
@handle_errors
def coordinate_cmd(reference: str, party: str, kind: str, told: str, at: str | None, db_url: str | None) -> None:
    """Record what a coordination party (CERT, ISAC, integrator, customer) was told, and when.

    \b
    Example:
      zonewarden psirt coordinate PSIRT-2026-0001 --party CERT@VDE --kind cert --told "report, PoC, fix date"
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    _case_out(svc.coordinate(store, reference, principal=principal, party=party, kind=kind, told=told,
                             at=_when(at, "--at")), done=f"recorded what {party} ({kind}) was told")


@psirt.command("reply")
@click.argument("reference")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The answer (UTF-8 text, at most 20 000 characters); '-' reads standard input.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the armoured OpenPGP message here (default: standard output).")
@click.option("--clear", is_flag=True, default=False,
              help="The reporter gave no key: record that the answer goes through the contact channel in clear.")
@db_option
@handle_errors
def reply_cmd(reference: str, file: Path, output: Path | None, clear: bool, db_url: str | None) -> None:
    """Answer the reporter, encrypted to the OpenPGP key they sent with the report.

    The key is checked again (revoked, expired or unable to encrypt is refused) in a throw-away
    keyring. The case records when, by whom, the key fingerprint and the sha256 of the
    ciphertext (the text only when the policy sets keep_reply_text); the audit trail has a
    psirt.reply event. Without a key the answer must go through the contact channel in clear:
    --clear records that, and prints nothing to send.

    \b
    Example:
      zonewarden psirt reply PSIRT-2026-0001 --file answer.txt -o answer.asc
    """
    from zonewarden.io.atomic import write_atomic
    from zonewarden.services import psirt_reply as svc

    message = sys.stdin.buffer.read() if str(file) == "-" else _read(file, "--file")
    store, principal = caller(db_url)
    got = svc.reply(store, reference, message, principal=principal, clear=clear, source=str(file))
    comm = got.communication
    if got.armoured is None:
        note(f"{reference}: recorded an answer in clear ({comm.message_bytes} bytes, sha256 {comm.message_sha256}); "
             "send it to the reporter's contact yourself")
        return
    if output is None:
        sys.stdout.buffer.write(got.armoured)
    else:
        write_atomic(output, got.armoured)
        note(f"wrote {output}")
    note(f"{reference}: answer encrypted to key {comm.fingerprint} (ciphertext sha256 {comm.ciphertext_sha256}); "
         "send it to the reporter's contact")


@psirt.command("reporter-key")
@click.argument("reference")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The reporter's new armoured OpenPGP public key.")
@click.option("--remove", is_flag=True, default=False, help="Drop the key: answers then go in clear (psirt reply --clear).")
@db_option
@handle_errors
def reporter_key_cmd(reference: str, file: Path | None, remove: bool, db_url: str | None) -> None:
    """Replace the reporter's encryption key (checked as at intake), or remove it.

    For a reporter whose key expired or was revoked since the report: with their new key,
    answers are encrypted again; without one, --remove lets you answer in clear and record it.

    \b
    Example:
      zonewarden psirt reporter-key PSIRT-2026-0001 --file rita-2027.asc
    """
    from zonewarden.services import psirt_reply as svc

    if (file is None) == (not remove):
        raise InputError("give the new key (--file KEY) or --remove, not both")
    armoured = None if file is None else _read(file, "--file").decode("utf-8", errors="replace")
    store, principal = caller(db_url)
    case = svc.set_reporter_key(store, reference, armoured, principal=principal)
    key = case.reporter_key
    _case_out(case, done=f"answers encrypted to key {key.fingerprint}" if key else "key removed; answers go in clear")


@psirt.command("cve")
@click.argument("reference")
@click.argument("cve")
@click.option("--state", type=click.Choice(["requested", "reserved", "published"]), required=True)
@db_option
@handle_errors
def cve_cmd(reference: str, cve: str, state: str, db_url: str | None) -> None:
    """Record a CVE id of the case: requested, reserved or published.

    \b
    Example:
      zonewarden psirt cve PSIRT-2026-0001 CVE-2026-40001 --state reserved
    """
    from zonewarden.domain.psirt import CveState
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    _case_out(svc.record_cve(store, reference, cve, CveState(state), principal=principal), done=f"{cve} {state}")


@psirt.command("ssvc")
@click.argument("reference")
@click.option("--table", "table_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="An SSVC coordinator decision table (JSON), e.g. ../shared/data/ssvc/decision_tables/ssvc/coordinator_triage_1_0_0.json.")
@click.option("--set", "values", multiple=True, metavar="KEY=VALUE", help="A decision point's value (repeat), e.g. RP=N.")
@db_option
@handle_errors
def ssvc_cmd(reference: str, table_file: Path, values: tuple[str, ...], db_url: str | None) -> None:
    """Record the SSVC coordinator decision (triage or publish) from a published table.

    \b
    Example:
      zonewarden psirt ssvc PSIRT-2026-0001 --table coordinator_triage_1_0_0.json \\
        --set RP=N --set SCON=Y --set RC=C --set SC=O --set SE=A --set U=L --set PSI=M
    """
    import orjson

    from zonewarden.services import psirt as svc

    try:
        table = orjson.loads(_read(table_file, "--table"))
    except orjson.JSONDecodeError as exc:
        raise InputError(f"--table {table_file}: not JSON ({exc})") from None
    inputs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--set {item!r}: write KEY=VALUE (e.g. RP=N)")
        inputs[key] = value
    store, principal = caller(db_url)
    case = svc.record_coordinator_decision(store, reference, table, inputs, principal=principal)
    assert case.coordinator is not None
    note(f"{case.reference}: {case.coordinator.table}: {case.coordinator.outcome} ({case.coordinator.outcome_name})")


@psirt.command("assess")
@click.argument("reference")
@click.option("--summary", required=True, help="What the advisory says about the vulnerability.")
@click.option("--cwe", default=None, metavar="CWE-N")
@click.option("--cwe-name", default=None, help="The CWE's name (looked up in the CWE catalogue when installed).")
@click.option("--cvss", "cvss", default=None, metavar="VECTOR", help="CVSS v3.x vector.")
@click.option("--impact", default=None, metavar="LIST", help="Comma list of safety, availability, integrity, confidentiality.")
@click.option("--remediation", default=None)
@click.option("--workaround", default=None)
@click.option("--category", type=click.Choice(["csaf_security_advisory", "csaf_vex"]), default=None)
@click.option("--tlp", type=click.Choice(["WHITE", "GREEN", "AMBER", "RED"], case_sensitive=False), default=None)
@db_option
@handle_errors
def assess_cmd(reference: str, summary: str, cwe: str | None, cwe_name: str | None, cvss: str | None,
               impact: str | None, remediation: str | None, workaround: str | None, category: str | None,
               tlp: str | None, db_url: str | None) -> None:
    """Record the assessment the advisory is built from.

    \b
    Example:
      zonewarden psirt assess PSIRT-2026-0001 --summary "Unauthenticated config writes" \\
        --cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H --impact availability,integrity
    """
    from pydantic import ValidationError

    from zonewarden.domain.psirt import Assessment
    from zonewarden.services import psirt as svc

    try:
        assessment = Assessment(summary=summary, cwe=cwe, cwe_name=cwe_name, cvss_v3=cvss, impact=impact,
                                remediation=remediation, workaround=workaround)
    except ValidationError as exc:
        raise InputError("psirt assess: " + "; ".join(f"--{'-'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                                     for e in exc.errors(include_url=False))) from None
    store, principal = caller(db_url)
    _case_out(svc.assess(store, reference, assessment, principal=principal, category=category, tlp=tlp),
              done="assessment recorded")


@psirt.command("affects")
@click.argument("reference")
@click.option("--product", "product_id", required=True, metavar="ID", help="A product of the register.")
@click.option("--versions", required=True, metavar="SPEC", help="'<V', '<=V', 'A..B' or a comma list of registered versions.")
@click.option("--fixed", default=None, metavar="VERSION", help="The registered version that fixes them.")
@db_option
@handle_errors
def affects_cmd(reference: str, product_id: str, versions: str, fixed: str | None, db_url: str | None) -> None:
    """Record which registered versions of a product the case affects and which version fixes them.

    \b
    Example:
      zonewarden psirt affects PSIRT-2026-0001 --product flowctl --versions "<2.1" --fixed 2.1
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    case = svc.record_affected(store, reference, product_id, versions, principal=principal, fixed=fixed)
    entry = next(a for a in case.affected if a.product == product_id)
    note(f"{case.reference}: {product_id} {', '.join(entry.versions)} affected; fixed in {entry.fixed or '(no fix yet)'}")


@psirt.group("product")
def product_group() -> None:
    """The supplier's product and version register (the CSAF product tree is generated from it).

    \b
    Example:
      zonewarden psirt product add flowctl --vendor ACME --name "FlowCtl PLC" --version 2.0 --version 2.1
      zonewarden psirt product list
    """


@product_group.command("add")
@click.argument("product_id")
@click.option("--vendor", required=True)
@click.option("--name", required=True)
@click.option("--version", "versions", multiple=True, required=True, metavar="V", help="A released version (repeat, oldest first).")
@click.option("--cpe", default=None, help="CPE 2.3 name of the product.")
@db_option
@handle_errors
def product_add_cmd(product_id: str, vendor: str, name: str, versions: tuple[str, ...], cpe: str | None,
                    db_url: str | None) -> None:
    """Add a product with its versions (or replace its entry).

    \b
    Example:
      zonewarden psirt product add flowctl --vendor ACME --name "FlowCtl PLC" --version 1.0 --version 2.0 --version 2.1
    """
    from pydantic import ValidationError

    from zonewarden.domain.psirt import Product
    from zonewarden.services import psirt as svc

    try:
        product = Product(id=product_id, vendor=vendor, name=name, versions=versions, cpe=cpe)
    except ValidationError as exc:
        raise InputError("psirt product add: " + "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                                          for e in exc.errors(include_url=False))) from None
    store, principal = caller(db_url)
    svc.add_product(store, product, principal=principal)
    note(f"product {product_id}: {len(versions)} versions")


@product_group.command("list")
@format_option("table", "json", "csv")
@db_option
@handle_errors
def product_list_cmd(fmt: str, db_url: str | None) -> None:
    """List the register.

    \b
    Example:
      zonewarden psirt product list --format json
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    rows = [p.model_dump(mode="json") for p in svc.products(store, principal=principal)]
    emit_rows(rows, ["id", "vendor", "name", "versions", "cpe"], fmt, title="Products")


@psirt.command("policy")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Set the disclosure policy from this YAML/JSON file (publisher, contact, days, process).")
@db_option
@handle_errors
def policy_cmd(file: Path | None, db_url: str | None) -> None:
    """Show (or set) the recorded disclosure policy: due dates and the published process.

    \b
    Example:
      zonewarden psirt policy --file policy.yaml
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    if file is not None:
        svc.set_policy(store, svc.read_policy_file(file), principal=principal)
    emit_json(svc.policy(store).model_dump(mode="json"))


def _signer(signing_key: Path | None):  # type: ignore[no-untyped-def]
    from contextlib import nullcontext

    from zonewarden.services.psirt_publish import Signer

    if signing_key is None:
        return nullcontext(None)
    return Signer(_read(signing_key, "--signing-key"), source=str(signing_key))


def _publish_options(func: F) -> F:
    func = click.option("--signing-key", "signing_key", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Armoured OpenPGP secret key to sign with (passphrase in ZONEWARDEN_SIGNING_PASSPHRASE).")(func)
    func = click.option("--base-url", "base_url", required=True, metavar="URL",
                        help="Where the folder will be served (https://...).")(func)
    return click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
                        help="The provider folder to (re)write.")(func)


@psirt.command("csaf")
@click.argument("reference")
@click.option("--base-url", "base_url", required=True, metavar="URL")
@db_option
@handle_errors
def csaf_cmd(reference: str, base_url: str, db_url: str | None) -> None:
    """Print the CSAF advisory the next publish would produce; exit 1 and list the failing
    mandatory tests (with JSON pointers) when it would be refused.

    \b
    Example:
      zonewarden psirt csaf PSIRT-2026-0001 --base-url https://psirt.acme.example > draft.json
    """
    from zonewarden.services import psirt_publish as pub

    store, principal = caller(db_url)
    doc, problems = pub.build(store, reference, principal=principal, base_url=base_url)
    emit_json(doc)
    for p in problems:
        note(f"test {p.test_id} at {p.pointer or '/'}: {safe_text(p.message, one_line=True)}")
    if problems:
        sys.exit(EXIT_FINDINGS)


@psirt.command("publish")
@click.argument("reference")
@_publish_options
@click.option("--summary", default=None, help="Revision summary (default: Initial release / Revision).")
@db_option
@handle_errors
def publish_cmd(reference: str, out: Path, base_url: str, signing_key: Path | None, summary: str | None,
                db_url: str | None) -> None:
    """Publish the case's CSAF advisory (or a revision) into the provider folder.

    Refused while the case is under embargo, before the coordinated release, or when the
    advisory fails the strict CSAF 2.0 validation (the error names the test and pointer).

    \b
    Example:
      zonewarden psirt publish PSIRT-2026-0001 --out site/ --base-url https://psirt.acme.example --signing-key key.asc
    """
    from zonewarden.services import psirt_publish as pub

    store, principal = caller(db_url)
    with _signer(signing_key) as signer:
        res = pub.publish(store, reference, principal=principal, out_dir=out, base_url=base_url, signer=signer,
                          summary=summary)
    emit_json(res.as_dict())
    for n in res.notes:
        note(f"note: {n}")
    if signing_key is None:
        note("note: not signed; pass --signing-key so consumers can verify the advisory")


@psirt.command("folder")
@_publish_options
@db_option
@handle_errors
def folder_cmd(out: Path, base_url: str, signing_key: Path | None, db_url: str | None) -> None:
    """Rebuild the provider folder from every published advisory.

    \b
    Example:
      zonewarden psirt folder --out site/ --base-url https://psirt.acme.example --signing-key key.asc
    """
    from zonewarden.services import psirt_publish as pub

    store, principal = caller(db_url)
    with _signer(signing_key) as signer:
        n, notes = pub.write_folder(store, principal=principal, out_dir=out, base_url=base_url, signer=signer)
    note(f"wrote {n} files to {out}")
    for text in notes:
        note(f"note: {text}")


@psirt.command("export")
@db_option
@handle_errors
def export_cmd(db_url: str | None) -> None:
    """Print what may be shared with customers: published cases only, no reporter, nothing under embargo.

    \b
    Example:
      zonewarden psirt export > published-cases.json
    """
    from zonewarden.services import psirt as svc

    store, principal = caller(db_url)
    emit_json(svc.export_cases(store, principal=principal))


commands: list[click.Command] = [psirt]


@click.command("suppliers")
@click.option("--site", "site_id", default=None, metavar="SITE", help="Site id (needed when the database holds several).")
@click.option("--as-of", "as_of", default=None, metavar="DATE", help="Evaluate as of this date (YYYY-MM-DD).")
@format_option("table", "json", "csv")
@db_option
@handle_errors
def suppliers_cmd(site_id: str | None, as_of: str | None, fmt: str, db_url: str | None) -> None:
    """List the vendors of the site's inventory as suppliers: their disclosure process (the
    site file's suppliers: section), the share of assets each covers and how well the plant will
    be informed; exit 1 when assets depend on a supplier without a usable process.

    \b
    Example:
      zonewarden suppliers --as-of 2026-11-25
      zonewarden suppliers --format json
    """
    from zonewarden.services.psirt_suppliers import suppliers

    store, principal = caller(db_url)
    result = suppliers(store, principal=principal, site_id=site_id, as_of=as_of)
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        emit_rows(result.rows(), ["vendor", "supplier", "assets", "share", "informed", "reasons"], fmt,
                  title="Suppliers")
    if result.poorly_informed_share > 0:
        note(f"{result.poorly_informed_share:.0%} of the assets depend on suppliers without a usable disclosure process")
        sys.exit(EXIT_FINDINGS)


commands.append(suppliers_cmd)
