"""The EPCIS 2.0 HTTP API on SQLite and PostgreSQL, through FastAPI's TestClient."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from valuetrace.api import create_app
from valuetrace.epcis import canonical_identifier, validate_document

DATA = Path(__file__).parent / "data" / "epcis"
GS1 = DATA / "gs1"
OPENEPCIS = DATA / "openepcis"
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
JSONLD = {"Content-Type": "application/ld+json"}
JSON = {"Content-Type": "application/json"}

# A small chain: item A is commissioned, transformed into item B, B is packed on pallet P,
# and the pallet is shipped.
ITEM_A = "urn:epc:id:sgtin:4012345.011122.25"
ITEM_B = "urn:epc:id:sgtin:4012345.077889.25"
PALLET = "urn:epc:id:sscc:4012345.0000000333"
TRANSFORMATION_ID = "urn:uuid:2f1a3b6c-0c1e-4d3a-9a70-6a1b2c3d4e5f"


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T09:00:00Z",
        "epcisBody": {"eventList": events},
    }


def _object_event(epc: str, minute: int, biz_step: str, action: str = "OBSERVE") -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"2024-03-01T10:{minute:02d}:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [epc],
        "action": action,
        "bizStep": biz_step,
    }


def _chain_events() -> list[dict[str, Any]]:
    commission = _object_event(ITEM_A, 0, "commissioning", action="ADD")
    commission["eventID"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    transform = {
        "eventID": "urn:uuid:00000000-0000-4000-8000-000000000002",
        "type": "TransformationEvent",
        "eventTime": "2024-03-01T10:10:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputEPCList": [ITEM_A],
        "outputEPCList": [ITEM_B],
        "transformationID": TRANSFORMATION_ID,
        "bizStep": "commissioning",
    }
    pack = {
        "eventID": "urn:uuid:00000000-0000-4000-8000-000000000003",
        "type": "AggregationEvent",
        "eventTime": "2024-03-01T10:20:00Z",
        "eventTimeZoneOffset": "+00:00",
        "parentID": PALLET,
        "childEPCs": [ITEM_B],
        "action": "ADD",
        "bizStep": "packing",
    }
    ship = _object_event(PALLET, 30, "shipping")
    ship["eventID"] = "urn:uuid:00000000-0000-4000-8000-000000000004"
    return [commission, transform, pack, ship]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url)) as test_client:
        yield test_client


def _capture(client: TestClient, document: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = client.post("/capture", content=json.dumps(document), headers=JSONLD)
    return response


def _capture_file(client: TestClient, path: Path) -> httpx.Response:
    response: httpx.Response = client.post("/capture", content=path.read_bytes(), headers=JSONLD)
    return response


def _event_list(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    events: list[dict[str, Any]] = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return events


def _event_ids(response: httpx.Response) -> list[str]:
    return [event["eventID"] for event in _event_list(response)]


def _problem(response: httpx.Response, status: int, problem_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == problem_type
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def _next_link(response: httpx.Response) -> str | None:
    header: str | None = response.headers.get("link")
    if header is None:
        return None
    target, relation = header.split(";", 1)
    assert relation.strip() == 'rel="next"'
    return target.strip().removeprefix("<").removesuffix(">")


# -- capture ---------------------------------------------------------------------------------


def test_capture_gs1_document(client: TestClient) -> None:
    response = _capture_file(client, GS1 / "Example_9.6.1-ObjectEvent.jsonld")

    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/capture/{job['captureID']}"
    assert job["running"] is False
    assert job["success"] is True
    assert job["captureErrorBehaviour"] == "rollback"
    assert job["errors"] == []
    assert "createdAt" in job
    assert "finishedAt" in job


def test_capture_job_lookup(client: TestClient) -> None:
    created = _capture_file(client, GS1 / "Example_9.6.1-ObjectEvent.jsonld").json()

    fetched = client.get(f"/capture/{created['captureID']}")

    assert fetched.status_code == 200
    assert fetched.json()["captureID"] == created["captureID"]
    assert fetched.json()["success"] is True


def test_capture_job_list(client: TestClient) -> None:
    created = _capture_file(client, GS1 / "Example_9.6.1-ObjectEvent.jsonld").json()

    listed = client.get("/capture")

    assert listed.status_code == 200
    assert [job["captureID"] for job in listed.json()] == [created["captureID"]]


def test_capture_job_unknown(client: TestClient) -> None:
    _problem(client.get("/capture/no-such-job"), 404, "epcisException:NoSuchNameException")


def test_capture_plain_json_media_type(client: TestClient) -> None:
    body = (GS1 / "Example_9.6.3-AggregationEvent.jsonld").read_bytes()

    response = client.post(
        "/capture", content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )

    assert response.status_code == 202, response.text
    assert response.json()["success"] is True


@pytest.mark.parametrize(
    "name",
    [
        "EPCISQueryDocument.jsonld",
        "Example_9.6.2-ObjectEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
        "WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
        "WithSensorData/SensorDataExample1.jsonld",
    ],
)
def test_capture_official_examples(client: TestClient, name: str) -> None:
    response = _capture_file(client, GS1 / name)

    assert response.status_code == 202, response.text
    assert response.json()["success"] is True
    assert len(_event_list(client.get("/events"))) > 0


@pytest.mark.parametrize(
    "name",
    [
        "ObjectEvent_without_identifier_list.json",
        "ObjectEvent_with_invalid_action.json",
        "ObjectEvent_with_invalid_eventTime_format.json",
        "ObjectEvent_without_action_and_eventTime.json",
        "ObjectEvent_with_quantity_as_text.json",
        "EPCISDocument_without_context.json",
        "Combination_of_events_with_missing_mandatory_fields.json",
    ],
)
def test_capture_invalid_document(client: TestClient, name: str) -> None:
    response = _capture_file(client, OPENEPCIS / "Invalid" / name)

    body = _problem(response, 400, "epcisException:ValidationException")
    assert body["problems"]
    for problem in body["problems"]:
        assert problem["path"].startswith("$")
        assert problem["rule"]
        assert problem["message"]
    assert _event_list(client.get("/events")) == []


def test_capture_all_or_nothing(client: TestClient) -> None:
    valid = _object_event(ITEM_A, 1, "shipping")
    invalid = _object_event(ITEM_B, 2, "shipping")
    del invalid["action"]

    response = _capture(client, _document([valid, invalid]))

    body = _problem(response, 400, "epcisException:ValidationException")
    assert any(
        problem["path"].startswith("$.epcisBody.eventList[1]") for problem in body["problems"]
    )
    assert _event_list(client.get("/events")) == []


def test_capture_duplicate_event_rejected(client: TestClient) -> None:
    _capture(client, _document(_chain_events()[:1]))

    response = _capture(client, _document(_chain_events()[:2]))

    body = _problem(response, 409, "epcisException:ResourceAlreadyExistsException")
    assert [problem["rule"] for problem in body["problems"]] == ["duplicate-event-id"]
    assert [problem["path"] for problem in body["problems"]] == ["$.epcisBody.eventList[0].eventID"]
    job = client.get(f"/capture/{body['captureID']}").json()
    assert job["success"] is False
    assert job["running"] is False
    assert job["errors"][0]["rule"] == "duplicate-event-id"
    assert len(_event_list(client.get("/events"))) == 1


def test_capture_proceed_behaviour_rejected(client: TestClient) -> None:
    response = client.post(
        "/capture",
        content=json.dumps(_document(_chain_events())),
        headers={**JSONLD, "GS1-Capture-Error-Behaviour": "proceed"},
    )

    _problem(response, 400, "epcisException:ValidationException")


# -- request bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_body_unsupported_media_type(client: TestClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = json.dumps(_document(_chain_events())).encode()

    response = client.post("/capture", content=body, headers=headers)

    _problem(response, 415, "epcisException:UnsupportedMediaTypeException")


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe{\x00}\x00",
        b'{"type": "EPCISDocument", "note": "caf\xe9"}',
        b"{not json",
        b"",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'["a list, not an object"]',
    ],
    ids=["utf16", "latin1", "syntax", "empty", "deep-array", "deep-object", "array"],
)
def test_body_unreadable(client: TestClient, body: bytes) -> None:
    response = client.post("/capture", content=body, headers=JSONLD)

    _problem(response, 400, "epcisException:ValidationException")


def test_body_over_limit(database_url: str) -> None:
    limit = 1024 * 1024
    body = b'{"padding": "' + b"x" * 50_000_000 + b'"}'

    with TestClient(create_app(database_url, max_document_bytes=limit)) as client:
        response = client.post("/capture", content=body, headers=JSONLD)
        event_response = client.post("/events", content=body, headers=JSONLD)

    _problem(response, 413, "epcisException:CaptureLimitExceededException")
    assert response.headers["gs1-epcis-capture-file-size-limit"] == str(limit)
    _problem(event_response, 413, "epcisException:CaptureLimitExceededException")


def test_body_50mb_under_default_limit(client: TestClient) -> None:
    body = b'{"type": "EPCISDocument", "padding": "' + b"x" * 50_000_000 + b'"}'

    response = client.post("/capture", content=body, headers=JSONLD)

    _problem(response, 400, "epcisException:ValidationException")


class _CountingReceive:
    """An ASGI receive callable that streams a body in chunks and counts what it handed out."""

    def __init__(self, chunk: bytes, chunks: int) -> None:
        self.chunk = chunk
        self.remaining = chunks
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.remaining == 0:
            return {"type": "http.disconnect"}
        self.remaining -= 1
        return {"type": "http.request", "body": self.chunk, "more_body": self.remaining > 0}


def _call_asgi(app: Any, headers: list[tuple[bytes, bytes]], receive: _CountingReceive) -> int:
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/capture",
        "raw_path": b"/capture",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    return statuses[0]


def test_body_declared_too_large_not_read(database_url: str) -> None:
    app = create_app(database_url, max_document_bytes=1024 * 1024)
    receive = _CountingReceive(b"x" * 65536, 800)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"52428800")]

    status = _call_asgi(app, headers, receive)

    assert status == 413
    assert receive.calls == 0
    app.state.repository.close()


def test_body_streamed_too_large_stops_early(database_url: str) -> None:
    app = create_app(database_url, max_document_bytes=1024 * 1024)
    receive = _CountingReceive(b"x" * 65536, 800)
    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]

    status = _call_asgi(app, headers, receive)

    assert status == 413
    # 1 MiB is 16 chunks of 64 KiB, so the 17th chunk crosses the limit and reading stops.
    assert receive.calls == 17
    app.state.repository.close()


# -- single events ---------------------------------------------------------------------------


def test_post_event_created(client: TestClient) -> None:
    body = (OPENEPCIS / "Events" / "ObjectEvent.json").read_bytes()

    response = client.post("/events", content=body, headers=JSON)

    assert response.status_code == 201, response.text
    event_id = response.json()["eventID"]
    assert event_id.startswith("ni:///sha-256;")
    assert response.headers["location"] == "/events/" + quote(event_id, safe=":")
    fetched = client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert _event_ids(fetched) == [event_id]


def test_post_event_duplicate(client: TestClient) -> None:
    body = (OPENEPCIS / "Events" / "ObjectEvent.json").read_bytes()
    client.post("/events", content=body, headers=JSON)

    response = client.post("/events", content=body, headers=JSON)

    body_json = _problem(response, 409, "epcisException:ResourceAlreadyExistsException")
    assert body_json["eventID"].startswith("ni:///sha-256;")


def test_post_event_default_context(client: TestClient) -> None:
    event = _chain_events()[0]

    response = client.post("/events", content=json.dumps(event), headers=JSON)

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/events/" + event["eventID"]


@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "ObjectEvent",
            "eventTime": "2024-03-01T10:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
        },
        {
            "type": "NoSuchEvent",
            "eventTime": "2024-03-01T10:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [ITEM_A],
            "action": "OBSERVE",
        },
        _document(_chain_events()[:1]),
    ],
    ids=["no-epcs-or-quantities", "unknown-type", "whole-document"],
)
def test_post_event_invalid(client: TestClient, event: dict[str, Any]) -> None:
    response = client.post("/events", content=json.dumps(event), headers=JSON)

    body = _problem(response, 400, "epcisException:ValidationException")
    assert body["problems"]
    assert _event_list(client.get("/events")) == []


def test_get_event_unknown(client: TestClient) -> None:
    response = client.get("/events/" + quote("urn:uuid:00000000-0000-4000-8000-0000000000ff"))

    _problem(response, 404, "epcisException:NoSuchNameException")


def test_get_event_hash_identifier(client: TestClient) -> None:
    _capture_file(client, GS1 / "Example_9.6.1-ObjectEvent.jsonld")
    event_id = (
        "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0"
    )

    response = client.get("/events/" + quote(event_id, safe=""))

    assert response.status_code == 200, response.text
    assert _event_ids(response) == [event_id]


# -- queries ---------------------------------------------------------------------------------


def test_query_document_shape(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))

    response = client.get("/events")

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "EPCISQueryDocument"
    assert body["schemaVersion"] == "2.0"
    assert body["epcisBody"]["queryResults"]["queryName"] == "SimpleEventQuery"
    assert "creationDate" in body
    assert validate_document(body) == []
    assert [event["eventID"] for event in _event_list(response)] == [
        event["eventID"] for event in _chain_events()
    ]


def test_query_document_extension_context(client: TestClient) -> None:
    _capture_file(client, GS1 / "Example_9.6.1-ObjectEvent.jsonld")

    response = client.get("/events")

    assert validate_document(response.json()) == []


def test_query_gs1_event_ids(client: TestClient) -> None:
    _capture_file(client, GS1 / "Example_9.6.1-ObjectEvent.jsonld")

    response = client.get("/events")

    assert _event_ids(response) == [
        "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0",
        "ni:///sha-256;00e1e6eba3a7cc6125be4793a631f0af50f8322e0ab5f2c0bab994a11cec1d79?ver=CBV2.0",
    ]


def test_query_version_headers(client: TestClient) -> None:
    for response in (client.get("/events"), client.get("/eventTypes"), client.get("/nowhere")):
        assert response.headers["gs1-epcis-version"] == "2.0.0"
        assert response.headers["gs1-cbv-version"] == "2.0.0"


def test_query_paging(client: TestClient) -> None:
    events = [
        _object_event(f"urn:epc:id:sgtin:4012345.011122.{n}", n, "shipping") for n in range(5)
    ]
    _capture(client, _document(events))

    seen: list[str] = []
    page_sizes: list[int] = []
    url: str | None = "/events?perPage=2&EQ_bizStep=shipping"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        page_sizes.append(len(_event_list(response)))
        seen.extend(_event_ids(response))
        url = _next_link(response)

    assert page_sizes == [2, 2, 1]
    assert len(set(seen)) == 5


def test_query_filter_biz_step(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))

    bare = client.get("/events", params={"EQ_bizStep": "shipping"})
    web_uri = client.get(
        "/events", params={"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-shipping"}
    )

    assert _event_ids(bare) == ["urn:uuid:00000000-0000-4000-8000-000000000004"]
    assert _event_ids(web_uri) == _event_ids(bare)


def test_query_filter_repeated_values(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))

    response = client.get("/events", params=[("EQ_bizStep", "shipping"), ("EQ_bizStep", "packing")])

    assert sorted(_event_ids(response)) == [
        "urn:uuid:00000000-0000-4000-8000-000000000003",
        "urn:uuid:00000000-0000-4000-8000-000000000004",
    ]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("NO_such_parameter", "x"),
        ("perPage", "0"),
        ("perPage", "many"),
        ("GE_eventTime", "yesterday"),
        ("EQ_action", "JUMP"),
    ],
)
def test_query_bad_parameter(client: TestClient, parameter: str, value: str) -> None:
    response = client.get("/events", params={parameter: value})

    body = _problem(response, 400, "epcisException:QueryParameterException")
    assert body["parameter"] == parameter


def test_query_bad_page_token(client: TestClient) -> None:
    response = client.get("/events", params={"nextPageToken": "not-a-token"})

    _problem(response, 400, "epcisException:QueryParameterException")


def test_event_types_standard(client: TestClient) -> None:
    response = client.get("/eventTypes")

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "Collection"
    assert set(body["member"]) >= {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }


def test_event_type_events(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))

    response = client.get("/eventTypes/AggregationEvent/events")

    assert response.status_code == 200
    assert _event_ids(response) == ["urn:uuid:00000000-0000-4000-8000-000000000003"]


def test_event_type_unknown(client: TestClient) -> None:
    response = client.get("/eventTypes/NoSuchEvent/events")

    _problem(response, 404, "epcisException:NoSuchNameException")


def test_event_type_conflicting_parameter(client: TestClient) -> None:
    response = client.get("/eventTypes/ObjectEvent/events", params={"eventType": "ObjectEvent"})

    _problem(response, 400, "epcisException:QueryParameterException")


def test_epc_events_urn_and_digital_link(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))
    expected = [
        "urn:uuid:00000000-0000-4000-8000-000000000002",
        "urn:uuid:00000000-0000-4000-8000-000000000003",
    ]

    by_urn = client.get("/epcs/" + quote(ITEM_B, safe="") + "/events")
    by_link = client.get("/epcs/" + quote(canonical_identifier(ITEM_B), safe="") + "/events")

    assert sorted(_event_ids(by_urn)) == expected
    assert sorted(_event_ids(by_link)) == expected


def test_unknown_route(client: TestClient) -> None:
    _problem(client.get("/nowhere"), 404, "epcisException:NoSuchNameException")


# -- trace -----------------------------------------------------------------------------------


def test_trace_upstream(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))

    response = client.get("/trace/upstream", params={"epc": ITEM_B})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["direction"] == "upstream"
    assert canonical_identifier(ITEM_A) in body["identifiers"]
    transform_id = "urn:uuid:00000000-0000-4000-8000-000000000002"
    assert transform_id in [edge["eventID"] for edge in body["edges"]]
    assert transform_id in [event["eventID"] for event in body["events"]]
    assert body["truncated"] is False


def test_trace_downstream(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))

    response = client.get("/trace/downstream", params={"epc": ITEM_A})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["direction"] == "downstream"
    assert canonical_identifier(ITEM_B) in body["identifiers"]
    for edge in body["edges"]:
        assert set(edge) == {"from", "to", "eventID"}


def test_trace_depth_limit(client: TestClient) -> None:
    _capture(client, _document(_chain_events()))

    shallow = client.get("/trace/downstream", params={"epc": ITEM_A, "maxDepth": "1"}).json()
    deep = client.get("/trace/downstream", params={"epc": ITEM_A, "maxDepth": "10"}).json()

    assert len(shallow["identifiers"]) < len(deep["identifiers"])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"epc": ITEM_A, "maxDepth": "0"},
        {"epc": ITEM_A, "maxDepth": "x"},
        {"epc": ITEM_A, "x": "1"},
    ],
    ids=["missing-epc", "zero-depth", "text-depth", "unknown-parameter"],
)
def test_trace_bad_parameter(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/trace/upstream", params=params)

    _problem(response, 400, "epcisException:QueryParameterException")


# -- logging ---------------------------------------------------------------------------------


def test_request_log_line(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="valuetrace.api"):
        client.get("/eventTypes")

    lines = [
        record.getMessage() for record in caplog.records if record.name == "valuetrace.api._app"
    ]
    assert len(lines) == 1
    assert lines[0].startswith("GET /eventTypes 200 ")
    assert lines[0].endswith(" ms")
