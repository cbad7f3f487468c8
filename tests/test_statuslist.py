"""Tests for the W3C Bitstring Status List: encoding, allocation, credentials and status checks."""

from __future__ import annotations

import base64
import gzip
import json
import random
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from valuetrace.errors import InputError, ValuetraceError
from valuetrace.findings import Severity
from valuetrace.vc._statuslist import (
    MAX_DECODED_BYTES,
    MIN_LENGTH,
    StatusList,
    StatusListError,
    check_status,
    status_entry,
    status_list_credential,
)

DATA = Path(__file__).parent / "data" / "status-list"
SPEC_EXAMPLE = DATA / "spec-example-BitstringStatusListCredential.json"
VECTORS = DATA / "generated-with-digitalbazaar-vc-bitstring-status-list-2.0.1.json"
LIST_URL = "https://status.example.com/lists/1"


def _vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return vectors


def _encode_raw(raw: bytes) -> str:
    """Encode any bytes the way encodedList does, without the length checks of StatusList."""
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw)).rstrip(b"=").decode("ascii")


def _b64(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _loader(*credentials: Mapping[str, Any]) -> Any:
    by_id = {credential["id"]: credential for credential in credentials}
    return by_id.get


def _holder(*entries: dict[str, Any]) -> dict[str, Any]:
    status: Any = entries[0] if len(entries) == 1 else list(entries)
    return {"id": "urn:uuid:holder-credential", "credentialStatus": status}


# --- official data ---------------------------------------------------------------------------


def test_spec_example_decodes_empty() -> None:
    credential = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    status_list = StatusList.decode(credential["credentialSubject"]["encodedList"])

    assert status_list.length == MIN_LENGTH
    assert status_list.set_indexes() == []
    assert status_list.allocated == frozenset()


def test_spec_example_checks_valid() -> None:
    list_credential = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    entry = status_entry(list_credential["id"], 94567, "revocation")

    findings = check_status(_holder(entry), _loader(list_credential))

    assert findings == []


@pytest.mark.parametrize(
    "vector",
    [vector for vector in _vectors() if vector["lengthBits"] >= MIN_LENGTH],
    ids=lambda vector: vector["name"],
)
def test_vectors_bits_match(vector: dict[str, Any]) -> None:
    status_list = StatusList.decode(vector["encodedList"])

    assert status_list.length == vector["lengthBits"]
    assert status_list.set_indexes() == sorted(vector["setIndices"])
    for index, expected in vector["expectedStatus"].items():
        assert status_list.get(int(index)) is expected, f"index {index}"


@pytest.mark.parametrize(
    "vector",
    [vector for vector in _vectors() if vector["lengthBits"] >= MIN_LENGTH],
    ids=lambda vector: vector["name"],
)
def test_vectors_reencode_same_bits(vector: dict[str, Any]) -> None:
    status_list = StatusList()
    for index in vector["setIndices"]:
        status_list.set(index, True)

    ours = StatusList.decode(status_list.encode())
    theirs = StatusList.decode(vector["encodedList"])

    assert ours.to_bytes() == theirs.to_bytes()


def test_vectors_short_list_rejected() -> None:
    short = [vector for vector in _vectors() if vector["lengthBits"] < MIN_LENGTH]
    assert short, "the vector file should contain a list below the minimum length"

    for vector in short:
        with pytest.raises(StatusListError, match="shorter than the minimum"):
            StatusList.decode(vector["encodedList"])


# --- bits and encoding -----------------------------------------------------------------------


def test_bit_order_msb_first() -> None:
    status_list = StatusList()
    status_list.set(0, True)
    status_list.set(9, True)

    raw = status_list.to_bytes()

    assert raw[0] == 0x80
    assert raw[1] == 0x40


def test_set_and_clear() -> None:
    status_list = StatusList()
    status_list.set(12345, True)
    assert status_list.get(12345) is True
    assert status_list.get(12344) is False

    status_list.set(12345, False)

    assert status_list.get(12345) is False
    assert status_list.set_indexes() == []


def test_roundtrip_larger_list() -> None:
    status_list = StatusList(MIN_LENGTH * 4)
    indexes = [0, 7, 8, 131_071, 131_072, MIN_LENGTH * 4 - 1]
    for index in indexes:
        status_list.set(index, True)

    encoded = status_list.encode()
    decoded = StatusList.decode(encoded)

    assert encoded.startswith("u")
    assert "=" not in encoded
    assert decoded.length == MIN_LENGTH * 4
    assert decoded.set_indexes() == indexes
    assert decoded.to_bytes() == status_list.to_bytes()


def test_decode_multi_member_gzip() -> None:
    half = bytes(MIN_LENGTH // 16)
    compressed = gzip.compress(half) + gzip.compress(b"\x01" + half[1:])

    decoded = StatusList.decode(_b64(compressed))

    assert decoded.length == MIN_LENGTH
    assert decoded.set_indexes() == [MIN_LENGTH // 2 + 7]


def test_decode_marks_set_bits_allocated() -> None:
    status_list = StatusList()
    status_list.set(5, True)

    decoded = StatusList.decode(status_list.encode(), allocated=[6])

    assert decoded.allocated == frozenset({5, 6})


@pytest.mark.parametrize("length", [MIN_LENGTH - 8, MIN_LENGTH + 1, 8 * MAX_DECODED_BYTES + 8])
def test_length_rejected(length: int) -> None:
    with pytest.raises(StatusListError):
        StatusList(length)


@pytest.mark.parametrize("index", [-1, MIN_LENGTH, True, "3"])
def test_index_rejected(index: Any) -> None:
    status_list = StatusList()

    with pytest.raises(StatusListError):
        status_list.get(index)
    with pytest.raises(StatusListError):
        status_list.set(index, True)


# --- decode errors ---------------------------------------------------------------------------


def test_error_is_input_error() -> None:
    assert issubclass(StatusListError, InputError)


def test_decode_missing_prefix() -> None:
    encoded = StatusList().encode()

    with pytest.raises(StatusListError, match="multibase prefix 'u'"):
        StatusList.decode(encoded[1:])


@pytest.mark.parametrize("body", ["H4sI+AAA", "H4sI/AAA", "H4sIAA==", "H4sIA", "H4 sI"])
def test_decode_bad_base64(body: str) -> None:
    with pytest.raises(StatusListError, match="base64url"):
        StatusList.decode("u" + body)


def test_decode_bad_gzip() -> None:
    not_gzip = zlib.compress(bytes(MIN_LENGTH // 8))

    with pytest.raises(StatusListError, match="not valid GZIP"):
        StatusList.decode(_b64(not_gzip))


def test_decode_truncated_gzip() -> None:
    compressed = gzip.compress(bytes(MIN_LENGTH // 8))

    with pytest.raises(StatusListError, match="truncated"):
        StatusList.decode(_b64(compressed[:-12]))


def test_decode_empty_body() -> None:
    with pytest.raises(StatusListError):
        StatusList.decode("u")


def test_decode_bad_checksum() -> None:
    compressed = bytearray(gzip.compress(bytes(MIN_LENGTH // 8)))
    compressed[-8] ^= 0xFF  # first byte of the CRC-32 trailer

    with pytest.raises(StatusListError, match="not valid GZIP"):
        StatusList.decode(_b64(bytes(compressed)))


def test_decode_short_list() -> None:
    with pytest.raises(StatusListError, match="shorter than the minimum"):
        StatusList.decode(_encode_raw(bytes(MIN_LENGTH // 8 - 1)))


def test_decode_gzip_bomb() -> None:
    bomb = gzip.compress(bytes(MAX_DECODED_BYTES + 1024), compresslevel=9)
    assert len(bomb) < 64 * 1024, "the bomb should be small before decompression"

    with pytest.raises(StatusListError, match="expands to more than"):
        StatusList.decode(_b64(bomb))


def test_decode_at_cap_accepted() -> None:
    encoded = _encode_raw(bytes(MAX_DECODED_BYTES))

    decoded = StatusList.decode(encoded)

    assert decoded.length == MAX_DECODED_BYTES * 8


# --- allocation ------------------------------------------------------------------------------


def test_allocate_no_reuse() -> None:
    status_list = StatusList()
    rng = random.Random(7)

    indexes = [status_list.allocate(rng) for _ in range(5000)]

    assert len(set(indexes)) == len(indexes)
    assert all(0 <= index < MIN_LENGTH for index in indexes)
    assert status_list.allocated == frozenset(indexes)


def test_allocate_spreads_indexes() -> None:
    status_list = StatusList()

    indexes = [status_list.allocate() for _ in range(200)]

    assert indexes != sorted(indexes)
    assert max(indexes) - min(indexes) > MIN_LENGTH // 2


def test_allocate_skips_preallocated() -> None:
    preallocated = set(range(MIN_LENGTH - 3))
    status_list = StatusList(allocated=preallocated)

    last = {status_list.allocate(random.Random(1)) for _ in range(3)}

    assert last == {MIN_LENGTH - 3, MIN_LENGTH - 2, MIN_LENGTH - 1}


def test_allocate_full_list() -> None:
    status_list = StatusList(allocated=range(MIN_LENGTH))

    with pytest.raises(StatusListError, match="every index"):
        status_list.allocate()


def test_allocate_after_decode() -> None:
    issued = StatusList()
    rng = random.Random(3)
    first = issued.allocate(rng)
    issued.set(first, True)

    reloaded = StatusList.decode(issued.encode())
    rng_again = random.Random(3)

    assert reloaded.allocate(rng_again) != first


# --- credentials -----------------------------------------------------------------------------


def test_list_credential_shape() -> None:
    status_list = StatusList()
    status_list.set(42, True)

    credential = status_list_credential(
        status_list,
        credential_id=LIST_URL,
        issuer="did:web:issuer.example.com",
        purpose="suspension",
        valid_from="2026-01-01T00:00:00Z",
    )

    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["id"] == LIST_URL
    assert credential["issuer"] == "did:web:issuer.example.com"
    assert credential["validFrom"] == "2026-01-01T00:00:00Z"
    subject = credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "suspension"
    assert StatusList.decode(subject["encodedList"]).set_indexes() == [42]


def test_list_credential_matches_spec_keys() -> None:
    spec = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))

    ours = status_list_credential(
        StatusList(),
        credential_id=spec["id"],
        issuer=spec["issuer"],
        purpose="revocation",
        valid_from=spec["validFrom"],
    )

    assert set(ours) == set(spec)
    assert set(ours["credentialSubject"]) == set(spec["credentialSubject"])
    assert ours["type"] == spec["type"]


def test_entry_shape() -> None:
    entry = status_entry(LIST_URL, 94567, "revocation")

    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "revocation"
    assert entry["statusListIndex"] == "94567"
    assert entry["statusListCredential"] == LIST_URL


@pytest.mark.parametrize("purpose", ["refresh", "message", "Revocation"])
def test_purpose_rejected(purpose: str) -> None:
    with pytest.raises(StatusListError, match="not supported"):
        status_entry(LIST_URL, 1, purpose)
    with pytest.raises(StatusListError, match="not supported"):
        status_list_credential(
            StatusList(),
            credential_id=LIST_URL,
            issuer="did:web:issuer.example.com",
            purpose=purpose,
            valid_from="2026-01-01T00:00:00Z",
        )


@pytest.mark.parametrize("index", [-1, True, 1.5])
def test_entry_index_rejected(index: Any) -> None:
    with pytest.raises(StatusListError):
        status_entry(LIST_URL, index, "revocation")


# --- check_status ----------------------------------------------------------------------------


def _published(
    purpose: str, set_indexes: list[int], url: str = LIST_URL, length: int = MIN_LENGTH
) -> dict[str, Any]:
    status_list = StatusList(length)
    for index in set_indexes:
        status_list.set(index, True)
    return status_list_credential(
        status_list,
        credential_id=url,
        issuer="did:web:issuer.example.com",
        purpose=purpose,
        valid_from="2026-01-01T00:00:00Z",
    )


def test_check_clear_bit() -> None:
    findings = check_status(
        _holder(status_entry(LIST_URL, 10, "revocation")),
        _loader(_published("revocation", [11])),
    )

    assert findings == []


def test_check_no_status() -> None:
    assert check_status({"id": "urn:uuid:x"}, _loader()) == []


def test_check_revoked() -> None:
    findings = check_status(
        _holder(status_entry(LIST_URL, 11, "revocation")),
        _loader(_published("revocation", [11])),
    )

    assert [finding.code for finding in findings] == ["status.revoked"]
    assert findings[0].severity is Severity.ERROR
    assert findings[0].credential == "urn:uuid:holder-credential"
    assert findings[0].path == "$.credentialStatus"
    assert "11" in findings[0].message


def test_check_suspended_in_array() -> None:
    suspension_url = "https://status.example.com/lists/2"
    credential = _holder(
        status_entry(LIST_URL, 3, "revocation"),
        status_entry(suspension_url, 4, "suspension"),
    )

    findings = check_status(
        credential,
        _loader(_published("revocation", []), _published("suspension", [4], suspension_url)),
        credential_ref="dpp.json",
    )

    assert [finding.code for finding in findings] == ["status.suspended"]
    assert findings[0].path == "$.credentialStatus[1]"
    assert findings[0].credential == "dpp.json"


def test_check_list_purpose_array() -> None:
    published = _published("revocation", [5])
    published["credentialSubject"]["statusPurpose"] = ["suspension", "revocation"]

    findings = check_status(_holder(status_entry(LIST_URL, 5, "revocation")), _loader(published))

    assert [finding.code for finding in findings] == ["status.revoked"]


def test_check_list_not_found() -> None:
    findings = check_status(_holder(status_entry(LIST_URL, 5, "revocation")), _loader())

    assert [finding.code for finding in findings] == ["status.unavailable"]
    assert findings[0].severity is Severity.ERROR
    assert LIST_URL in findings[0].message


def test_check_loader_raises() -> None:
    def failing_loader(url: str) -> Mapping[str, Any] | None:
        raise ValuetraceError(f"fetching {url} timed out")

    findings = check_status(_holder(status_entry(LIST_URL, 5, "revocation")), failing_loader)

    assert [finding.code for finding in findings] == ["status.unavailable"]
    assert "timed out" in findings[0].message


def test_check_purpose_mismatch() -> None:
    findings = check_status(
        _holder(status_entry(LIST_URL, 5, "revocation")),
        _loader(_published("suspension", [5])),
    )

    assert [finding.code for finding in findings] == ["status.unavailable"]
    assert "statusPurpose" in findings[0].message


def test_check_index_outside_list() -> None:
    findings = check_status(
        _holder(status_entry(LIST_URL, MIN_LENGTH, "revocation")),
        _loader(_published("revocation", [])),
    )

    assert [finding.code for finding in findings] == ["status.unavailable"]
    assert "outside" in findings[0].message


def test_check_undecodable_list() -> None:
    published = _published("revocation", [])
    published["credentialSubject"]["encodedList"] = _encode_raw(bytes(100))

    findings = check_status(_holder(status_entry(LIST_URL, 5, "revocation")), _loader(published))

    assert [finding.code for finding in findings] == ["status.unavailable"]
    assert "shorter than the minimum" in findings[0].message


@pytest.mark.parametrize(
    "subject",
    [
        None,
        {"type": "StatusList2021", "statusPurpose": "revocation", "encodedList": "u"},
        {"type": "BitstringStatusList", "statusPurpose": "revocation"},
    ],
)
def test_check_malformed_list(subject: Any) -> None:
    published = _published("revocation", [])
    published["credentialSubject"] = subject

    findings = check_status(_holder(status_entry(LIST_URL, 5, "revocation")), _loader(published))

    assert [finding.code for finding in findings] == ["status.unavailable"]


def test_check_other_type_unsupported() -> None:
    entry = {
        "id": "https://status.example.com/2021#5",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": LIST_URL,
    }

    findings = check_status(_holder(entry), _loader())

    assert [finding.code for finding in findings] == ["status.unsupported"]
    assert findings[0].severity is Severity.INFO


@pytest.mark.parametrize(
    "changes",
    [{"statusPurpose": "message"}, {"statusPurpose": "refresh"}, {"statusSize": 2}],
)
def test_check_unsupported_entry(changes: dict[str, Any]) -> None:
    entry = status_entry(LIST_URL, 5, "revocation") | changes

    findings = check_status(_holder(entry), _loader(_published("revocation", [5])))

    assert [finding.code for finding in findings] == ["status.unsupported"]
    assert findings[0].severity is Severity.INFO


@pytest.mark.parametrize(
    "changes",
    [
        {"statusListIndex": 5},
        {"statusListIndex": "-1"},
        {"statusListIndex": "05"},
        {"statusListIndex": "five"},
        {"statusListCredential": None},
        {"statusListCredential": ""},
    ],
)
def test_check_malformed_entry(changes: dict[str, Any]) -> None:
    entry = status_entry(LIST_URL, 5, "revocation") | changes

    findings = check_status(_holder(entry), _loader(_published("revocation", [5])))

    assert [finding.code for finding in findings] == ["status.invalid"]
    assert findings[0].severity is Severity.ERROR


def test_check_status_not_object() -> None:
    findings = check_status({"credentialStatus": "revoked"}, _loader())

    assert [finding.code for finding in findings] == ["status.invalid"]
    assert findings[0].path == "$.credentialStatus"


def test_check_entry_not_object() -> None:
    findings = check_status({"credentialStatus": [42]}, _loader())

    assert [finding.code for finding in findings] == ["status.invalid"]
    assert findings[0].path == "$.credentialStatus[0]"
