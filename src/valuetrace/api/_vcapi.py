"""VC-API endpoints: issue a credential, verify a credential, verify a presentation.

The request and response bodies follow the VC-API (now VCALM) as the W3C test suites call it:
``POST /credentials/issue`` takes ``{"credential", "options"}`` and returns 201 with
``{"verifiableCredential"}``. ``POST /credentials/verify`` takes ``{"verifiableCredential",
"options"}`` and ``POST /presentations/verify`` takes ``{"verifiablePresentation", "options"}``.
Both return 200 when verification succeeds and 400 when it fails, with ``verified``,
``checks``, ``errors``, ``warnings`` and ``problemDetails``. A request that cannot be read gets
an RFC 9457 problem response instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from valuetrace.api._body import read_limited
from valuetrace.api._issuing import SECURING_MECHANISMS, IssuerKey, SecuringMechanism
from valuetrace.api._problems import ProblemError
from valuetrace.api._verifying import CHECKS, Verifier, credential_content_findings
from valuetrace.errors import ValuetraceError
from valuetrace.findings import Finding, Severity
from valuetrace.vc import credential_issuer, is_enveloped

__all__ = ["MAX_JSON_DEPTH", "router"]

LOGGER = logging.getLogger(__name__)

# Problem types of the VC Data Model 2.0, section 7.2.
PARSING_ERROR = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"
CRYPTOGRAPHIC_SECURITY_ERROR = "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
MALFORMED_VALUE_ERROR = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
# RFC 9457: the problem has no meaning beyond its title and the HTTP status.
_GENERIC = "about:blank"

_JSON_MEDIA_TYPES = frozenset({"application/json", "application/ld+json"})
# The limit keeps the recursive checks within Python's stack, and credentials nest far less.
MAX_JSON_DEPTH = 64

_ENVELOPING_PROOF = "EnvelopingProof"
_DATA_INTEGRITY_PROOF = "DataIntegrityProof"
_ISSUE_OPTIONS = frozenset({"type", "cryptosuite", "securingMechanism"})
_FLAG_OPTIONS = ("returnCredential", "returnPresentation", "returnProblemDetails", "returnResults")
_VERIFY_OPTIONS = frozenset({"checks", "returnCredential", "returnProblemDetails", "returnResults"})
_PRESENTATION_OPTIONS = frozenset(
    {"challenge", "domain", "checks", "returnPresentation", "returnProblemDetails", "returnResults"}
)

router = APIRouter()


# -- reading requests --------------------------------------------------------------------------


def _invalid_request(detail: str, *, problem_type: str = MALFORMED_VALUE_ERROR) -> ProblemError:
    return ProblemError(400, problem_type, "Invalid request", detail)


def _too_large(max_bytes: int, received: str) -> ProblemError:
    return ProblemError(
        413,
        _GENERIC,
        "Payload too large",
        f"the request body is {received}, more than the limit of {max_bytes} bytes. Send a "
        "smaller credential or presentation, or raise the server's --max-document-bytes",
    )


def _depth_exceeds(value: object, max_depth: int) -> bool:
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_json_object(data: bytes) -> dict[str, Any]:
    """Parse a request body as one strict JSON object; raise ProblemError (400) if it is not."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _invalid_request(
            f"the request body is not UTF-8: byte {error.start} cannot be decoded",
            problem_type=PARSING_ERROR,
        ) from None
    too_deep = _invalid_request(
        f"the request body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep",
        problem_type=PARSING_ERROR,
    )
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise _invalid_request(
            f"the request body is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}",
            problem_type=PARSING_ERROR,
        ) from None
    except ValueError as error:
        raise _invalid_request(
            f"the request body is not valid JSON: {error}", problem_type=PARSING_ERROR
        ) from None
    except RecursionError:
        # The decoder gives up near the interpreter's recursion limit, far deeper than
        # MAX_JSON_DEPTH, so this is the same error.
        raise too_deep from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise too_deep
    if not isinstance(value, dict):
        raise _invalid_request(
            f"the request body is a JSON {type(value).__name__}, expected an object",
            problem_type=PARSING_ERROR,
        )
    return value


async def _read_json_object(request: Request) -> dict[str, Any]:
    """Read the request body as a JSON object within the application's size limit."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in _JSON_MEDIA_TYPES:
        raise ProblemError(
            415,
            _GENERIC,
            "Unsupported media type",
            f"the request body has media type {media_type or 'none'}, but JSON is expected: "
            "send it with Content-Type application/json or application/ld+json",
        )

    max_bytes: int = request.app.state.max_document_bytes
    data = await read_limited(request, max_bytes, _too_large)
    return await run_in_threadpool(_parse_json_object, data)


def _object_member(body: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        found = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise _invalid_request(f"the request member {name!r} is {found}, but it must be an object")
    return value


def _options(body: Mapping[str, Any], accepted: frozenset[str]) -> dict[str, Any]:
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise _invalid_request(
            f"'options' is a JSON {type(options).__name__}, but it must be an object"
        )
    unknown = sorted(set(options) - accepted)
    if unknown:
        note = " ('returnResults' only as false)" if "returnResults" in accepted else ""
        raise _invalid_request(
            f"options {unknown} are not supported here. The supported options are "
            f"{sorted(accepted)}{note}"
        )
    for name in _FLAG_OPTIONS:
        if name in options and not isinstance(options[name], bool):
            raise _invalid_request(f"option {name!r} must be true or false")
    if options.get("returnResults"):
        raise _invalid_request(
            "option 'returnResults' is not supported: the errors and warnings lists carry "
            "every result; leave the option out or set it to false"
        )
    for name in ("challenge", "domain"):
        if name in options and not isinstance(options[name], str):
            raise _invalid_request(f"option {name!r} must be a string")
    return options


def _check_findings(options: Mapping[str, Any]) -> list[Finding]:
    """Validate ``options.checks``: a list of check names. Unknown names give a warning."""
    if "checks" not in options:
        return []
    checks = options["checks"]
    if not isinstance(checks, list) or not all(isinstance(name, str) for name in checks):
        raise _invalid_request("option 'checks' must be a list of check names such as ['proof']")
    return [
        Finding(
            "options.unknown_check",
            Severity.WARNING,
            f"check {name!r} is unknown and was ignored; valuetrace runs the checks "
            f"{list(CHECKS)} on every request",
            None,
            f"$.options.checks[{index}]",
        )
        for index, name in enumerate(checks)
        if name not in CHECKS
    ]


# -- responses ---------------------------------------------------------------------------------


def _problem_type(code: str) -> str:
    if code in {"credential.malformed", "envelope.malformed"}:
        return PARSING_ERROR
    if code.startswith(("signature.", "proof.", "envelope.", "did.")):
        return CRYPTOGRAPHIC_SECURITY_ERROR
    if code.startswith(("schema.", "context.", "jsonld.", "datamodel.", "untp.")):
        return MALFORMED_VALUE_ERROR
    if code in {"credential.invalid_date", "status.invalid"}:
        return MALFORMED_VALUE_ERROR
    return _GENERIC


def _result_body(
    verified: bool, findings: list[Finding], options: Mapping[str, Any]
) -> dict[str, Any]:
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    others = [finding for finding in findings if finding.severity is not Severity.ERROR]
    body: dict[str, Any] = {
        "verified": verified,
        "checks": list(CHECKS),
        "errors": [finding.to_dict() for finding in errors],
        "warnings": [finding.to_dict() for finding in others],
    }
    if options.get("returnProblemDetails", True):
        body["problemDetails"] = [
            {"type": _problem_type(finding.code), "title": finding.code, "detail": finding.message}
            for finding in [*errors, *others]
        ]
    return body


def _log_outcome(kind: str, label: str, findings: list[Finding]) -> None:
    codes = sorted({finding.code for finding in findings if finding.severity is Severity.ERROR})
    outcome = f"failed ({', '.join(codes)})" if codes else "verified"
    LOGGER.info("%s %s %s", kind, label, outcome)


# -- issuing -----------------------------------------------------------------------------------


def _select_mechanism(
    options: Mapping[str, Any], default: str, issuer: IssuerKey
) -> SecuringMechanism:
    """Pick the securing mechanism that the request options name, or the server default."""
    cryptosuite = options.get("cryptosuite")
    proof_type = options.get("type")
    securing = options.get("securingMechanism")
    cryptosuites = sorted(name for name, item in SECURING_MECHANISMS.items() if item.cryptosuite)

    if cryptosuite is not None:
        if securing is not None:
            raise _invalid_request(
                "give either option 'cryptosuite' (an embedded proof) or 'securingMechanism' "
                "(an envelope), not both"
            )
        if proof_type not in (None, _DATA_INTEGRITY_PROOF):
            raise _invalid_request(
                f"option 'type' is {proof_type!r}, but a cryptosuite needs "
                f"{_DATA_INTEGRITY_PROOF!r}"
            )
        mechanism = SECURING_MECHANISMS.get(cryptosuite) if isinstance(cryptosuite, str) else None
        if mechanism is None or not mechanism.cryptosuite:
            raise _invalid_request(
                f"cryptosuite {cryptosuite!r} is not supported. This node issues {cryptosuites}"
            )
    elif proof_type is not None:
        raise _invalid_request(
            f"proof type {proof_type!r} needs option 'cryptosuite', one of {cryptosuites}"
            if proof_type == _DATA_INTEGRITY_PROOF
            else f"proof type {proof_type!r} is not supported. Use {_DATA_INTEGRITY_PROOF!r} "
            f"with a cryptosuite {cryptosuites}, or securingMechanism {_ENVELOPING_PROOF!r}"
        )
    elif securing is not None:
        if securing not in (_ENVELOPING_PROOF, "jose"):
            raise _invalid_request(
                f"securingMechanism {securing!r} is not supported. Use {_ENVELOPING_PROOF!r} "
                "for a JOSE envelope, or option 'cryptosuite' for an embedded proof"
            )
        mechanism = SECURING_MECHANISMS["jose"]
    else:
        mechanism = SECURING_MECHANISMS[default]

    try:
        mechanism.check_key(issuer)
    except ValueError as error:
        raise _invalid_request(str(error)) from error
    return mechanism


def _issue(
    credential: dict[str, Any], issuer: IssuerKey, mechanism: SecuringMechanism
) -> dict[str, Any]:
    if is_enveloped(credential):
        raise _invalid_request(
            "the credential is already an EnvelopedVerifiableCredential: send the plain "
            "credential to issue it"
        )

    findings = credential_content_findings(credential, reference="credential")
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    if errors:
        raise ProblemError(
            400,
            MALFORMED_VALUE_ERROR,
            "Invalid credential",
            f"the credential was not issued because of {len(errors)} error(s), the first at "
            f"{errors[0].path}: {errors[0].message}",
            extensions={
                "errors": [finding.to_dict() for finding in errors],
                "warnings": [finding.to_dict() for finding in findings if finding not in errors],
            },
        )

    issuer_id = credential_issuer(credential)
    if issuer_id != issuer.did:
        raise _invalid_request(
            f"the credential's issuer is {issuer_id!r}, but this node issues as "
            f"{issuer.did}. Set 'issuer' (or 'issuer.id') to {issuer.did}"
        )

    try:
        secured = mechanism.secure(credential, issuer, datetime.now(UTC))
    except (TypeError, ValueError, ValuetraceError) as error:
        # An RDF cryptosuite rejects terms that JSON-LD drops, and canonicalization has a
        # time limit, so a credential that passed validation can still fail here.
        LOGGER.warning("securing credential %s failed: %s", credential.get("id"), error)
        detail = f"the credential cannot be secured with {mechanism.name}: {error}"
        raise _invalid_request(detail) from error
    LOGGER.info(
        "issued credential %s as %s with %s",
        credential.get("id", "without id"),
        issuer.did,
        mechanism.name,
    )
    return secured


@router.post("/credentials/issue", status_code=201)
async def issue_credential(request: Request) -> JSONResponse:
    """Secure a credential with the node's issuer key and return it."""
    body = await _read_json_object(request)
    issuer: IssuerKey | None = request.app.state.vc_issuer
    if issuer is None:
        raise ProblemError(
            503,
            _GENERIC,
            "No issuer key",
            "this node has no issuer key, so it cannot issue credentials; start it with "
            "'valuetrace serve --issuer-key KEY_ID' or '--issuer-key generate'",
        )
    credential = _object_member(body, "credential")
    options = _options(body, _ISSUE_OPTIONS)
    mechanism = _select_mechanism(options, request.app.state.vc_securing, issuer)
    secured = await run_in_threadpool(_issue, credential, issuer, mechanism)
    return JSONResponse({"verifiableCredential": secured}, status_code=201)


# -- verifying ---------------------------------------------------------------------------------


@router.post("/credentials/verify")
async def verify_credential(request: Request) -> JSONResponse:
    """Verify one credential: proof or envelope, validity period, status and data model."""
    body = await _read_json_object(request)
    document = _object_member(body, "verifiableCredential")
    options = _options(body, _VERIFY_OPTIONS)
    option_findings = _check_findings(options)

    verifier: Verifier = request.app.state.vc_verifier
    result = await run_in_threadpool(
        lambda: verifier.verify_credential(document, at=datetime.now(UTC))
    )
    _log_outcome("credential", result.label, result.findings)

    response = _result_body(result.verified, [*option_findings, *result.findings], options)
    if options.get("returnCredential"):
        response["credential"] = result.credential
    return JSONResponse(response, status_code=200 if result.verified else 400)


@router.post("/presentations/verify")
async def verify_presentation(request: Request) -> JSONResponse:
    """Verify a presentation's proof or envelope, challenge, domain and credentials."""
    body = await _read_json_object(request)
    document = _object_member(body, "verifiablePresentation")
    options = _options(body, _PRESENTATION_OPTIONS)
    option_findings = _check_findings(options)

    verifier: Verifier = request.app.state.vc_verifier
    result = await run_in_threadpool(
        lambda: verifier.verify_presentation(
            document,
            at=datetime.now(UTC),
            challenge=options.get("challenge"),
            domain=options.get("domain"),
        )
    )
    findings = [*option_findings, *result.findings]
    for credential in result.credentials:
        findings.extend(credential.findings)
    _log_outcome("presentation", "verifiablePresentation", findings)

    response = _result_body(result.verified, findings, options)
    response["credentialResults"] = [
        {"credential": credential.label, "verified": credential.verified}
        for credential in result.credentials
    ]
    if options.get("returnPresentation"):
        response["presentation"] = result.presentation
    return JSONResponse(response, status_code=200 if result.verified else 400)
