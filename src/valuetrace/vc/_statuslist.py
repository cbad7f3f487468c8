"""W3C Bitstring Status List v1.0: publish and check revocation and suspension of credentials.

A status list is a bitstring of at least 131,072 bits (16 KiB). Bit ``i`` belongs to the credential
whose ``credentialStatus`` entry has ``statusListIndex`` ``"i"``, and a set bit means the credential
is revoked or suspended, as the list's ``statusPurpose`` sets. Index 0 is the left-most bit, so it
is the most significant bit of the first byte. The list is published in the ``encodedList``
property of a ``BitstringStatusListCredential``: GZIP-compressed, base64url-encoded without padding
and prefixed with the multibase code ``u``.

Specification: https://www.w3.org/TR/vc-bitstring-status-list/
"""

from __future__ import annotations

import base64
import binascii
import gzip
import logging
import random
import re
import secrets
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from valuetrace.errors import InputError, ValuetraceError
from valuetrace.findings import Finding, Severity, json_path

__all__ = [
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_SUBJECT_TYPE",
    "MAX_DECODED_BYTES",
    "MIN_LENGTH",
    "PURPOSES",
    "StatusList",
    "StatusListError",
    "check_status",
    "status_entry",
    "status_list_credential",
]

LOGGER = logging.getLogger(__name__)

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_SUBJECT_TYPE = "BitstringStatusList"
CREDENTIALS_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

# The specification sets 16 KiB as the minimum uncompressed size, so that one set bit does not
# single out a credential among too few others.
MIN_LENGTH = 131_072
# A limit of this project, not of the specification: decompression stops at 16 MiB (134,217,728
# bits) so that a small hostile encodedList cannot expand without bound in memory.
MAX_DECODED_BYTES = 16 * 1024 * 1024
PURPOSES = frozenset({"revocation", "suspension"})

_MULTIBASE_BASE64URL = "u"
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")
_CHUNK_BYTES = 64 * 1024
# Random draws before allocate() falls back to picking among the free indexes directly.
_RANDOM_DRAWS = 64
_FINDING_CODES = {"revocation": "status.revoked", "suspension": "status.suspended"}


class StatusListError(InputError):
    """A status list that cannot be decoded, or a misuse of a status list."""


class StatusList:
    """A bitstring of credential statuses with random allocation of free indexes.

    ``length`` is the number of bits. It must be a multiple of 8, at least :data:`MIN_LENGTH` and
    at most ``8 * MAX_DECODED_BYTES``. The list remembers which indexes it has handed out, so
    :meth:`allocate` never returns an index twice.
    """

    __slots__ = ("_allocated", "_bits")

    def __init__(self, length: int = MIN_LENGTH, *, allocated: Iterable[int] = ()) -> None:
        _check_length(length)
        self._bits = bytearray(length // 8)
        self._allocated: set[int] = set()
        for index in allocated:
            self._check_index(index)
            self._allocated.add(index)

    @property
    def length(self) -> int:
        """Number of bits in the list."""
        return len(self._bits) * 8

    @property
    def allocated(self) -> frozenset[int]:
        """Indexes handed out by :meth:`allocate` or marked as taken. Store them with the list."""
        return frozenset(self._allocated)

    def allocate(self, rng: random.Random | None = None) -> int:
        """Pick a free index at random, mark it as taken and return it.

        Random placement keeps the index from revealing the order in which credentials were
        issued. ``rng`` defaults to :class:`secrets.SystemRandom`. Pass a seeded
        :class:`random.Random` only in tests. Raises :class:`StatusListError` when every index
        is taken.
        """
        generator = rng if rng is not None else secrets.SystemRandom()
        if len(self._allocated) >= self.length:
            raise StatusListError(
                f"every index of this status list of {self.length} bits is allocated. "
                "Start a new status list for further credentials"
            )

        for _ in range(_RANDOM_DRAWS):
            index = generator.randrange(self.length)
            if index not in self._allocated:
                self._allocated.add(index)
                return index

        # The list is nearly full, so choose uniformly among the free indexes instead.
        free = [index for index in range(self.length) if index not in self._allocated]
        index = generator.choice(free)
        self._allocated.add(index)
        return index

    def set(self, index: int, value: bool) -> None:
        """Set the status bit at ``index`` (``True`` means revoked or suspended)."""
        self._check_index(index)
        mask = 0x80 >> (index % 8)
        if value:
            self._bits[index // 8] |= mask
        else:
            self._bits[index // 8] &= ~mask & 0xFF

    def get(self, index: int) -> bool:
        """Return the status bit at ``index``."""
        self._check_index(index)
        return bool(self._bits[index // 8] & (0x80 >> (index % 8)))

    def set_indexes(self) -> list[int]:
        """Return the indexes whose bit is set, in ascending order."""
        found: list[int] = []
        for byte_index, byte in enumerate(self._bits):
            if not byte:
                continue
            for bit in range(8):
                if byte & (0x80 >> bit):
                    found.append(byte_index * 8 + bit)
        return found

    def to_bytes(self) -> bytes:
        """Return the uncompressed bitstring."""
        return bytes(self._bits)

    def encode(self) -> str:
        """Return the ``encodedList`` value: GZIP, base64url without padding, prefix ``u``."""
        compressed = gzip.compress(bytes(self._bits), compresslevel=9, mtime=0)
        text = base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")
        return _MULTIBASE_BASE64URL + text

    @classmethod
    def decode(cls, text: str, *, allocated: Iterable[int] = ()) -> StatusList:
        """Read an ``encodedList`` value into a status list.

        Every set bit is also marked as allocated, because some credential owns it. Pass the
        issuer's stored ``allocated`` indexes as well, so that issued credentials whose bit is
        clear are not handed out again. Raises :class:`StatusListError` for a missing ``u``
        prefix, invalid base64url, invalid GZIP data, a list shorter than :data:`MIN_LENGTH`
        bits, or one that expands past :data:`MAX_DECODED_BYTES`.
        """
        compressed = _decode_multibase(text)
        raw = _gunzip_limited(compressed)
        _check_length(len(raw) * 8)

        status_list = cls(len(raw) * 8, allocated=allocated)
        status_list._bits[:] = raw
        status_list._allocated.update(status_list.set_indexes())
        return status_list

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise StatusListError(f"status list index {index!r} is not an integer")
        if not 0 <= index < self.length:
            raise StatusListError(
                f"status list index {index} is outside the list. "
                f"Use an index from 0 to {self.length - 1}."
            )


def _check_length(length: int) -> None:
    if length < MIN_LENGTH:
        raise StatusListError(
            f"status list of {length} bits is shorter than the minimum of {MIN_LENGTH} bits "
            "(16 KiB) that Bitstring Status List requires. The issuer must publish a longer list."
        )
    if length % 8:
        raise StatusListError(f"status list length {length} bits is not a multiple of 8")
    if length > MAX_DECODED_BYTES * 8:
        raise StatusListError(
            f"status list of {length} bits is longer than the maximum of "
            f"{MAX_DECODED_BYTES * 8} bits that valuetrace accepts"
        )


def _decode_multibase(text: str) -> bytes:
    if not isinstance(text, str):
        raise StatusListError(f"encodedList must be a string, not {type(text).__name__}")
    if not text.startswith(_MULTIBASE_BASE64URL):
        raise StatusListError(
            f"encodedList {_preview(text)} is missing the multibase prefix 'u' "
            "(base64url without padding) that Bitstring Status List requires."
        )

    body = text[1:]
    if not _BASE64URL.match(body) or len(body) % 4 == 1:
        raise StatusListError(
            f"encodedList {_preview(text)} is not valid base64url without padding. "
            "Use only A-Z, a-z, 0-9, '-' and '_'."
        )
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as error:
        raise StatusListError(
            f"encodedList {_preview(text)} is not valid base64url: {error}"
        ) from error


def _gunzip_limited(data: bytes) -> bytes:
    """Decompress one or more GZIP members, stopping with an error past MAX_DECODED_BYTES."""
    output = bytearray()
    remaining = data
    while True:
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = remaining
        try:
            while not decompressor.eof:
                # max_length bounds each step, and the unread input waits in unconsumed_tail.
                budget = MAX_DECODED_BYTES + 1 - len(output)
                chunk = decompressor.decompress(pending, min(budget, _CHUNK_BYTES))
                output += chunk
                if len(output) > MAX_DECODED_BYTES:
                    raise StatusListError(
                        f"encodedList expands to more than {MAX_DECODED_BYTES} bytes after "
                        "GZIP decompression, so the list is rejected to protect memory."
                    )
                pending = decompressor.unconsumed_tail
                if not chunk and not pending:
                    break
        except zlib.error as error:
            raise StatusListError(
                f"encodedList is not valid GZIP data: {error}. The issuer must GZIP-compress "
                "the bitstring before base64url encoding"
            ) from error

        if not decompressor.eof:
            raise StatusListError(
                "encodedList ends inside its GZIP stream, so the list is truncated."
            )
        remaining = decompressor.unused_data
        if not remaining:
            return bytes(output)


def _preview(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def status_list_credential(
    status_list: StatusList,
    *,
    credential_id: str,
    issuer: str,
    purpose: str,
    valid_from: str,
) -> dict[str, Any]:
    """Build an unsigned ``BitstringStatusListCredential`` (VC 2.0) that publishes ``status_list``.

    ``credential_id`` is the URL where the credential will be served. It is also the
    ``statusListCredential`` of the entries that point into this list. ``valid_from`` is an
    XML Schema dateTime such as ``2026-01-01T00:00:00Z``. Secure the result before publishing it.
    """
    _check_purpose(purpose)
    return {
        "@context": [CREDENTIALS_V2_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{credential_id}#list",
            "type": LIST_SUBJECT_TYPE,
            "statusPurpose": purpose,
            "encodedList": status_list.encode(),
        },
    }


def status_entry(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """Build the ``credentialStatus`` entry for bit ``index`` of the list at ``list_url``."""
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError(f"status list index {index!r} must be a non-negative integer")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise StatusListError(
            f"status purpose {purpose!r} is not supported. Use one of {sorted(PURPOSES)}"
        )


def check_status(
    credential: Mapping[str, Any],
    load_status_list: Callable[[str], Mapping[str, Any] | None],
    *,
    credential_ref: str | None = None,
) -> list[Finding]:
    """Check every ``credentialStatus`` entry of ``credential`` against its status list.

    ``load_status_list`` receives a ``statusListCredential`` URL and returns that credential as
    plain JSON, or ``None`` when it cannot be retrieved. It may also raise a
    :class:`~valuetrace.errors.ValuetraceError`, which counts as ``None``. This function does not
    verify the status list credential's proof or validity period: the loader or the caller must
    do that, and return ``None`` for a list that fails.

    A set bit gives ``status.revoked`` or ``status.suspended`` (errors). ``status.unavailable``
    (error) means the list cannot be loaded or decoded, has another purpose, or is too short for
    the index. A malformed entry gives ``status.invalid`` (error), and an entry of another type,
    purpose or ``statusSize`` gives ``status.unsupported`` (info). ``credential_ref``
    names the credential in findings and defaults to its ``id``.
    """
    reference = credential_ref
    if reference is None:
        credential_id = credential.get("id")
        reference = credential_id if isinstance(credential_id, str) else None

    raw_status = credential.get("credentialStatus")
    if raw_status is None:
        return []
    if isinstance(raw_status, Mapping):
        entries: list[tuple[Any, str]] = [(raw_status, json_path(["credentialStatus"]))]
    elif isinstance(raw_status, list):
        entries = [
            (entry, json_path(["credentialStatus", position]))
            for position, entry in enumerate(raw_status)
        ]
    else:
        return [
            Finding(
                "status.invalid",
                Severity.ERROR,
                "credentialStatus must be an object or an array of objects, "
                f"not {type(raw_status).__name__}",
                reference,
                json_path(["credentialStatus"]),
            )
        ]

    findings: list[Finding] = []
    for entry, path in entries:
        findings.extend(_check_entry(entry, path, reference, load_status_list))
    return findings


def _check_entry(
    entry: Any,
    path: str,
    reference: str | None,
    load_status_list: Callable[[str], Mapping[str, Any] | None],
) -> list[Finding]:
    def finding(code: str, severity: Severity, message: str) -> list[Finding]:
        return [Finding(code, severity, message, reference, path)]

    if not isinstance(entry, Mapping):
        return finding(
            "status.invalid", Severity.ERROR, "a credentialStatus entry must be an object"
        )

    entry_types = _as_strings(entry.get("type"))
    if ENTRY_TYPE not in entry_types:
        return finding(
            "status.unsupported",
            Severity.INFO,
            f"credentialStatus entry of type {entry.get('type')!r} was not checked because "
            f"only {ENTRY_TYPE} is supported",
        )

    purpose = entry.get("statusPurpose")
    if purpose not in PURPOSES:
        return finding(
            "status.unsupported",
            Severity.INFO,
            f"status purpose {purpose!r} was not checked because only "
            f"{sorted(PURPOSES)} are supported",
        )
    status_size = entry.get("statusSize", 1)
    if status_size != 1:
        return finding(
            "status.unsupported",
            Severity.INFO,
            f"statusSize {status_size!r} was not checked because only 1-bit statuses are supported",
        )

    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not _DECIMAL.match(raw_index):
        return finding(
            "status.invalid",
            Severity.ERROR,
            f"statusListIndex {raw_index!r} must be a string holding a non-negative integer",
        )
    index = int(raw_index)
    list_url = entry.get("statusListCredential")
    if not isinstance(list_url, str) or not list_url:
        return finding(
            "status.invalid",
            Severity.ERROR,
            f"statusListCredential {list_url!r} must be the URL of a status list credential",
        )

    problem, status_list = _load_list(list_url, purpose, load_status_list)
    if status_list is None:
        return finding("status.unavailable", Severity.ERROR, problem)
    if index >= status_list.length:
        return finding(
            "status.unavailable",
            Severity.ERROR,
            f"statusListIndex {index} is outside the status list at {list_url}, "
            f"which has {status_list.length} bits",
        )

    if status_list.get(index):
        return finding(
            _FINDING_CODES[purpose],
            Severity.ERROR,
            f"the credential is marked for {purpose} at index {index} of the status list "
            f"at {list_url}",
        )
    return []


def _load_list(
    list_url: str,
    purpose: str,
    load_status_list: Callable[[str], Mapping[str, Any] | None],
) -> tuple[str, StatusList | None]:
    """Load, check and decode one status list. Return a problem message or the list."""
    try:
        list_credential = load_status_list(list_url)
    except ValuetraceError as error:
        LOGGER.warning("status list %s could not be loaded: %s", list_url, error)
        return f"status list credential {list_url} could not be loaded: {error}", None
    if list_credential is None:
        return f"status list credential {list_url} could not be loaded", None

    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or LIST_SUBJECT_TYPE not in _as_strings(
        subject.get("type")
    ):
        return (
            f"status list credential {list_url} has no credentialSubject of type "
            f"{LIST_SUBJECT_TYPE}",
            None,
        )

    # The specification allows a list credential to serve several purposes at once.
    list_purposes = _as_strings(subject.get("statusPurpose"))
    if purpose not in list_purposes:
        return (
            f"status list credential {list_url} has statusPurpose "
            f"{subject.get('statusPurpose')!r}, but the credentialStatus entry expects {purpose!r}",
            None,
        )

    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        return f"status list credential {list_url} has no encodedList string", None
    try:
        return "", StatusList.decode(encoded)
    except StatusListError as error:
        return f"status list credential {list_url} has an unusable encodedList: {error}", None


def _as_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
