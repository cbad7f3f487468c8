"""Tests of trust files and trust settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from valuetrace.chain import TrustSettings, load_trust_file, trust_file_from_env
from valuetrace.errors import InputError

REGISTER = "did:web:register.example"
BODY = "did:web:accreditation.example"


def test_toml_trust_file(tmp_path: Path) -> None:
    path = tmp_path / "trust.toml"
    path.write_text(
        "require_accreditation = true\n"
        "[[registers]]\n"
        f'did = "{REGISTER}"\n'
        'name = "Business register"\n'
        "[[accreditation_bodies]]\n"
        f'did = "{BODY}"\n'
    )

    settings = load_trust_file(path)

    assert settings.registers == {REGISTER}
    assert settings.accreditation_bodies == {BODY}
    assert settings.require_accreditation


def test_json_trust_file_with_strings(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"registers": [REGISTER, {"did": "did:key:z6MkTest"}]}))

    settings = load_trust_file(path)

    assert settings.registers == {REGISTER, "did:key:z6MkTest"}
    assert settings.accreditation_bodies == frozenset()
    assert not settings.require_accreditation


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('registers = ["did:web:a.example#key-1"]', "is a DID URL"),
        ('registers = ["https://a.example"]', "is not a DID"),
        ('register = ["did:web:a.example"]', "unknown members ['register']"),
        ('registers = "did:web:a.example"', "must be a list"),
        ('require_accreditation = "yes"', "expected true or false"),
        ('[[registers]]\nname = "no did"', "with a 'did' member"),
        ('[[registers]]\ndid = "did:web:a.example"\nurl = "x"', "unknown members ['url']"),
        ("registers = [", "not valid TOML"),
    ],
)
def test_invalid_trust_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "trust.toml"
    path.write_text(text)

    with pytest.raises(InputError, match=re.escape(problem)) as raised:
        load_trust_file(path)

    assert str(path) in str(raised.value)


def test_missing_trust_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read trust file"):
        load_trust_file(tmp_path / "absent.toml")


def test_invalid_json_trust_file(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_text("{")

    with pytest.raises(InputError, match="not valid JSON"):
        load_trust_file(path)


def test_trust_file_from_env() -> None:
    assert trust_file_from_env({"VALUETRACE_TRUST_FILE": "/etc/trust.toml"}) == Path(
        "/etc/trust.toml"
    )
    assert trust_file_from_env({"VALUETRACE_TRUST_FILE": " "}) is None
    assert trust_file_from_env({}) is None


def test_settings_merge() -> None:
    first = TrustSettings.of([REGISTER])
    second = TrustSettings.of([], [BODY], require_accreditation=True)

    merged = first.merged(second)

    assert merged.registers == {REGISTER}
    assert merged.accreditation_bodies == {BODY}
    assert merged.require_accreditation


def test_settings_reject_non_did() -> None:
    with pytest.raises(InputError, match="accreditation body 'nobody' is not a DID"):
        TrustSettings.of([REGISTER], ["nobody"])
