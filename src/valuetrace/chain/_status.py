"""Status list credentials for the walk: read, verified and cached once per URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from valuetrace.chain._check import lookup_key, parse_datetime
from valuetrace.chain._sources import Sources
from valuetrace.did import PublicKey
from valuetrace.errors import EnvelopeError, InputError
from valuetrace.findings import has_errors
from valuetrace.vc import decode_envelope, is_enveloped, verify_jws

__all__ = ["StatusListLoader"]


class StatusListLoader:
    """Load ``BitstringStatusListCredential``s through the walk's sources and verify them.

    A status list counts only when it is an enveloped credential whose signature verifies with
    its issuer's DID document, and which is valid at the verification time. Otherwise loading
    raises :class:`InputError` with the reason, and the status check reports it as
    ``status.unavailable``. Each URL is read once per walk.
    """

    def __init__(self, sources: Sources, *, at: datetime, key_cache: dict[str, PublicKey]) -> None:
        self._sources = sources
        self._at = at
        self._key_cache = key_cache
        self._loaded: dict[str, dict[str, Any] | InputError] = {}

    def __call__(self, url: str) -> dict[str, Any]:
        if url not in self._loaded:
            try:
                self._loaded[url] = self._load(url)
            except InputError as error:
                self._loaded[url] = error
        result = self._loaded[url]
        if isinstance(result, InputError):
            raise result
        return result

    def _load(self, url: str) -> dict[str, Any]:
        loaded = self._sources.load(url)
        if loaded is None:
            raise InputError(f"no status list credential is published at {url}")
        try:
            document = json.loads(loaded.content)
        except (ValueError, UnicodeDecodeError) as error:
            raise InputError(f"the status list credential at {url} is not JSON: {error}") from error
        if not isinstance(document, dict) or not is_enveloped(document):
            raise InputError(
                f"the status list credential at {url} is not signed (not an enveloped "
                "credential), so its status bits cannot be trusted"
            )
        try:
            decoded = decode_envelope(document)
        except EnvelopeError as error:
            raise InputError(f"the status list credential at {url}: {error}") from error
        findings = verify_jws(decoded, self._resolve_key, credential_ref=url, now=self._at)
        if has_errors(findings):
            reasons = "; ".join(finding.message for finding in findings)
            raise InputError(f"the status list credential at {url} failed verification: {reasons}")
        self._check_dates(url, decoded.payload)
        return decoded.payload

    def _resolve_key(self, kid: str) -> PublicKey | None:
        return lookup_key(kid, self._sources.resolve_did, self._key_cache)

    def _check_dates(self, url: str, credential: dict[str, Any]) -> None:
        checks: list[tuple[str, Callable[[datetime], bool], str]] = [
            ("validFrom", lambda moment: moment > self._at, "is not valid yet"),
            ("validUntil", lambda moment: moment < self._at, "has expired"),
        ]
        for key, outside, words in checks:
            value = credential.get(key)
            if not isinstance(value, str):
                continue
            try:
                moment = parse_datetime(value)
            except ValueError as error:
                raise InputError(f"the status list credential at {url} has a bad {key}") from error
            if outside(moment):
                raise InputError(f"the status list credential at {url} {words} ({key} {value})")
