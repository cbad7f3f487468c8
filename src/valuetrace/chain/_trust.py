"""Trust settings of a verifier: trusted registers, accreditation bodies and their rules.

A trust file lists the DIDs a verifier trusts, in TOML or JSON::

    require_accreditation = true

    [[registers]]
    did = "did:web:register.example"
    name = "National business register"

    [[accreditation_bodies]]
    did = "did:web:accreditation.example"
    name = "National accreditation body"

Registers are trust roots for issuer anchoring: an issuer is anchored when a Digital Identity
Anchor issued by a register (or by a DID anchored in turn) names it. Accreditation bodies vouch
for conformity assessment bodies through accreditation credentials. With
``require_accreditation``, a conformity credential counts as evidence only when its issuer has
such an accreditation.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuetrace.did import did_of
from valuetrace.errors import DIDError, InputError

__all__ = ["TRUST_FILE_ENV", "TrustSettings", "load_trust_file", "trust_file_from_env"]

TRUST_FILE_ENV = "VALUETRACE_TRUST_FILE"

_TOP_LEVEL_KEYS = frozenset({"registers", "accreditation_bodies", "require_accreditation"})
_ENTRY_KEYS = frozenset({"did", "name"})
_MAX_TRUST_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TrustSettings:
    """DIDs a verifier trusts and whether conformity bodies must be accredited."""

    registers: frozenset[str] = frozenset()
    accreditation_bodies: frozenset[str] = frozenset()
    require_accreditation: bool = False

    def merged(self, other: TrustSettings) -> TrustSettings:
        """Combine two settings: the union of the DIDs, and accreditation required if either
        requires it."""
        return TrustSettings(
            registers=self.registers | other.registers,
            accreditation_bodies=self.accreditation_bodies | other.accreditation_bodies,
            require_accreditation=self.require_accreditation or other.require_accreditation,
        )

    @classmethod
    def of(
        cls,
        registers: Iterable[str] = (),
        accreditation_bodies: Iterable[str] = (),
        *,
        require_accreditation: bool = False,
    ) -> TrustSettings:
        """Build settings from DID lists, checking that each is a DID (raises ``InputError``)."""
        return cls(
            registers=frozenset(_checked_did(did, "trusted register") for did in registers),
            accreditation_bodies=frozenset(
                _checked_did(did, "accreditation body") for did in accreditation_bodies
            ),
            require_accreditation=require_accreditation,
        )


def _checked_did(value: object, role: str, where: str = "") -> str:
    try:
        did = did_of(value)  # type: ignore[arg-type]
    except DIDError as exc:
        raise InputError(f"{role} {value!r}{where} is not a DID: {exc}") from exc
    if did != value:
        raise InputError(
            f"{role} {value!r}{where} is a DID URL; give the DID itself, such as {did!r}"
        )
    return did


def load_trust_file(path: Path) -> TrustSettings:
    """Read a trust file (TOML, or JSON when the name ends in ``.json``).

    Raises ``InputError`` naming the file and the member that is missing or invalid.
    """
    try:
        size = path.stat().st_size
        if size > _MAX_TRUST_FILE_BYTES:
            raise InputError(
                f"trust file {path} is {size} bytes, more than the limit of "
                f"{_MAX_TRUST_FILE_BYTES} bytes; a trust file lists DIDs only"
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read trust file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"trust file {path} is not UTF-8 text: {exc}") from exc

    is_json = path.suffix.lower() == ".json"
    try:
        document = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if is_json else "TOML"
        raise InputError(f"trust file {path} is not valid {kind}: {exc}") from exc
    return _parse_trust_document(document, path)


def _parse_trust_document(document: Any, path: Path) -> TrustSettings:
    if not isinstance(document, Mapping):
        raise InputError(f"trust file {path} must contain an object (a table in TOML)")
    unknown = sorted(set(document) - _TOP_LEVEL_KEYS)
    if unknown:
        raise InputError(
            f"trust file {path} has unknown members {unknown}; the members are "
            f"{sorted(_TOP_LEVEL_KEYS)}"
        )
    require = document.get("require_accreditation", False)
    if not isinstance(require, bool):
        raise InputError(
            f"trust file {path}: require_accreditation is {require!r}, expected true or false"
        )
    return TrustSettings(
        registers=_parse_entries(document, "registers", "trusted register", path),
        accreditation_bodies=_parse_entries(
            document, "accreditation_bodies", "accreditation body", path
        ),
        require_accreditation=require,
    )


def _parse_entries(
    document: Mapping[str, Any], member: str, role: str, path: Path
) -> frozenset[str]:
    entries = document.get(member, [])
    if not isinstance(entries, list):
        raise InputError(
            f"trust file {path}: {member} must be a list of entries with a 'did' member"
        )
    dids: set[str] = set()
    for index, entry in enumerate(entries):
        where = f" in {path} {member}[{index}]"
        if isinstance(entry, str):
            dids.add(_checked_did(entry, role, where))
            continue
        if not isinstance(entry, Mapping) or "did" not in entry:
            raise InputError(f"entry{where} must be a DID string or an object with a 'did' member")
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise InputError(
                f"entry{where} has unknown members {unknown}; an entry has 'did' and "
                "optionally 'name'"
            )
        dids.add(_checked_did(entry["did"], role, where))
    return frozenset(dids)


def trust_file_from_env(environ: Mapping[str, str] | None = None) -> Path | None:
    """Return the trust file named by ``VALUETRACE_TRUST_FILE``, or ``None`` when it is unset."""
    value = (os.environ if environ is None else environ).get(TRUST_FILE_ENV, "").strip()
    return Path(value) if value else None
