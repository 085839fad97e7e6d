"""The supplier's PSIRT over HTTP: the reporters' intake (no account needed) and the cases.

``POST /psirt/reports`` is the one route anyone may call: it takes a report (JSON or YAML, at
most 2 MiB, validated with JSON pointers, script payloads stored inert), is limited per client
address and hour (429 beyond), and answers only the case reference, the status secret (shown
once) and when the acknowledgement is due. ``GET /psirt/reports/status/{secret}`` shows that
report's state and dates, nothing else; an unknown secret is one generic 404. The cases
themselves are for the PSIRT roles, and an embargoed case is an outline to anyone outside it.
Case changes (transitions with reasons, owners, the embargo and its members, coordination parties,
CVE records, the SSVC decision) go through the same ``services.psirt`` steps as the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from zonewarden.api.deps import Caller, IfMatch, StoreDep, expected_revision
from zonewarden.domain.psirt import CaseState, CveState
from zonewarden.services import psirt

router = APIRouter(tags=["psirt"])


def _client(request: Request) -> str:
    """The reporter's address as the server sees it (behind a proxy, uvicorn's
    ``--forwarded-allow-ips`` decides whether X-Forwarded-For counts)."""
    return request.client.host if request.client else "unknown"


@router.post("/psirt/reports", status_code=201, summary="Report a vulnerability (no account needed)",
             openapi_extra={"security": [], "requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object", "description": "A vulnerability report"}},
                 "application/yaml": {"schema": {"type": "string"}}}}})
async def submit_report(request: Request, store: StoreDep, response: Response) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    data = await request.body()
    intake = await run_in_threadpool(psirt.submit_report, store, data, client=_client(request))
    response.headers["Cache-Control"] = "no-store"  # the answer carries the status secret
    return intake.as_dict()


@router.get("/psirt/reports/status/{secret}", summary="The state of your report (the secret link)",
            openapi_extra={"security": []})
def report_status(secret: str, store: StoreDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the secret must not travel in a Referer
    return psirt.report_status(store, secret)


@router.get("/psirt/cases", summary="The PSIRT's cases (embargoed ones outside your circle as outlines)")
def cases(principal: Caller, store: StoreDep) -> dict[str, Any]:
    rows = psirt.list_cases(store, principal=principal)
    return {"items": rows, "total": len(rows)}




# --- case changes ---------------------------------------------------------------------------------
# Every change names the case version it edits in If-Match (the ETag of GET /psirt/cases/{ref}):
# 428 without, 412 when the case moved on. The role comes first (403), then If-Match; a caller
# outside the embargo of an embargoed case is refused (403) before the version is compared, so
# they learn nothing of it; an unknown case is 404. Each answers the case and its new ETag.


class TransitionBody(BaseModel):
    to: CaseState = Field(description="The state to move the case to.")
    reason: str | None = Field(default=None, max_length=4000, description="Why (required to reject).")


class AcknowledgeBody(BaseModel):
    owners: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=50, description="The case owners (default: you).")


class OwnersBody(BaseModel):
    add: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(default_factory=list, max_length=50)
    remove: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(default_factory=list, max_length=50)


class EmbargoBody(BaseModel):
    until: dt.datetime = Field(description="The embargo's end, with a time zone (2027-01-15T09:00:00Z).")
    members: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=100, description="User ids inside the embargo (you stay inside).")
    parties: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=100)


class PartyBody(BaseModel):
    party: str = Field(min_length=1, max_length=200, description="Who was told (a CERT, an ISAC, an integrator).")
    kind: str = Field(min_length=1, max_length=50)
    told: str = Field(min_length=1, max_length=4000, description="What they were told.")
    at: dt.datetime | None = Field(default=None, description="When (default: now).")


class CveBody(BaseModel):
    state: CveState


class SsvcBody(BaseModel):
    table: dict[str, Any] = Field(description="An SSVC coordinator decision table (CISA's JSON).")
    inputs: dict[Annotated[str, Field(max_length=20)], Annotated[str, Field(max_length=20)]] = Field(
        description="Each decision point's value, e.g. {\"RP\": \"N\"}.")


def _write(store: Any, principal: Any, if_match: str | None, response: Response, reference: str,
           act: Callable[[str], Any]) -> dict[str, Any]:
    from zonewarden.services import identity

    identity.authorize(store, principal, "psirt.write")  # 403 before anything else
    act(expected_revision(if_match))
    shown, version = psirt.show_case_version(store, reference, principal=principal)
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return shown


@router.get("/psirt/cases/{reference}", summary="One case as the caller may see it (its version in the ETag)")
def case(reference: str, principal: Caller, store: StoreDep, response: Response) -> dict[str, Any]:
    shown, version = psirt.show_case_version(store, reference, principal=principal)
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return shown


@router.post("/psirt/cases/{reference}/transitions", summary="Move the case (validate, reject with a reason, ...)")
def transition(reference: str, body: TransitionBody, principal: Caller, store: StoreDep, response: Response,
               if_match: IfMatch = None) -> dict[str, Any]:
    return _write(store, principal, if_match, response, reference, lambda v: psirt.transition(
        store, reference, body.to, principal=principal, reason=body.reason, expected=v))


@router.post("/psirt/cases/{reference}/acknowledgement", summary="Acknowledge the report (received -> triage)")
def acknowledge(reference: str, body: AcknowledgeBody, principal: Caller, store: StoreDep, response: Response,
                if_match: IfMatch = None) -> dict[str, Any]:
    return _write(store, principal, if_match, response, reference, lambda v: psirt.acknowledge(
        store, reference, principal=principal, owners=body.owners, expected=v))


@router.patch("/psirt/cases/{reference}/owners", summary="Add or remove case owners")
def owners(reference: str, body: OwnersBody, principal: Caller, store: StoreDep, response: Response,
           if_match: IfMatch = None) -> dict[str, Any]:
    return _write(store, principal, if_match, response, reference, lambda v: psirt.set_owners(
        store, reference, principal=principal, add=body.add, remove=body.remove, expected=v))


@router.put("/psirt/cases/{reference}/embargo", summary="Set or move the embargo and who is inside it")
def embargo(reference: str, body: EmbargoBody, principal: Caller, store: StoreDep, response: Response,
            if_match: IfMatch = None) -> dict[str, Any]:
    return _write(store, principal, if_match, response, reference, lambda v: psirt.set_embargo(
        store, reference, body.until, principal=principal, members=body.members, parties=body.parties, expected=v))


@router.post("/psirt/cases/{reference}/parties", summary="Record what a coordination party was told, and when")
def coordinate(reference: str, body: PartyBody, principal: Caller, store: StoreDep, response: Response,
               if_match: IfMatch = None) -> dict[str, Any]:
    return _write(store, principal, if_match, response, reference, lambda v: psirt.coordinate(
        store, reference, principal=principal, party=body.party, kind=body.kind, told=body.told, at=body.at,
        expected=v))


@router.put("/psirt/cases/{reference}/cves/{cve}", summary="Record a CVE id as requested, reserved or published")
def cve(reference: str, cve: str, body: CveBody, principal: Caller, store: StoreDep, response: Response,
        if_match: IfMatch = None) -> dict[str, Any]:
    return _write(store, principal, if_match, response, reference, lambda v: psirt.record_cve(
        store, reference, cve, body.state, principal=principal, expected=v))


@router.put("/psirt/cases/{reference}/ssvc", summary="Record the SSVC coordinator decision from a table")
def ssvc(reference: str, body: SsvcBody, principal: Caller, store: StoreDep, response: Response,
         if_match: IfMatch = None) -> dict[str, Any]:
    return _write(store, principal, if_match, response, reference, lambda v: psirt.record_coordinator_decision(
        store, reference, body.table, body.inputs, principal=principal, expected=v))


class ReplyBody(BaseModel):
    message: str = Field(min_length=1, max_length=20_000, description="The answer to the reporter (text).")
    clear: bool = Field(default=False, description=(
        "The reporter gave no key: record that the answer goes through the contact channel in clear."))


@router.post("/psirt/cases/{reference}/replies", status_code=201,
             summary="Answer the reporter, encrypted to their OpenPGP key (or record an answer in clear)")
def reply(reference: str, body: ReplyBody, principal: Caller, store: StoreDep, response: Response,
          if_match: IfMatch = None) -> dict[str, Any]:
    """The armoured message to send is in ``armoured`` (null for ``clear``); the case records
    when, by whom, the key fingerprint and the ciphertext's sha256. 409 when the case has no key
    (answer in clear) or, with ``clear``, when it has one; 422 for a revoked, expired or
    non-encrypting key."""
    from zonewarden.services import identity, psirt_reply

    identity.authorize(store, principal, "psirt.write")
    got = psirt_reply.reply(store, reference, body.message.encode("utf-8"), principal=principal, clear=body.clear,
                            source="message", expected=expected_revision(if_match))
    response.headers["Cache-Control"] = "no-store"
    _, version = psirt.show_case_version(store, reference, principal=principal)
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return got.as_dict()


class ReporterKeyBody(BaseModel):
    key: str | None = Field(max_length=64_000, description=(
        "The reporter's new armoured OpenPGP public key; null removes it (answers then go in clear)."))


@router.put("/psirt/cases/{reference}/reporter-key", summary="Replace or remove the reporter's encryption key")
def reporter_key(reference: str, body: ReporterKeyBody, principal: Caller, store: StoreDep, response: Response,
                 if_match: IfMatch = None) -> dict[str, Any]:
    from zonewarden.services import psirt_reply

    return _write(store, principal, if_match, response, reference, lambda v: psirt_reply.set_reporter_key(
        store, reference, body.key, principal=principal, expected=v))
