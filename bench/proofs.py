"""Benchmark credential verification per securing mechanism on a UNTP product passport.

The script builds the demo chain in a temporary SQLite store and takes the garment's product
passport (``dpp-garment``, about 4.6 KB of compact JSON) as issued, without its JOSE envelope.
It signs that credential with each mechanism and measures, in the same run:

- the verification rate of ``verify_data_integrity`` for ``eddsa-jcs-2022``, ``eddsa-rdfc-2022``
  and ``ecdsa-rdfc-2019`` with a P-256 key, and of JOSE envelopes (EdDSA, ES256, ES384:
  decoding and ``verify_jws``). Each rate is printed beside the bare signature verification rate
  of the same algorithm on the same signed bytes (``PublicKey.verify``);
- a pipeline that uses pyld alone for JSON-LD expansion and URDNA2015 canonicalization of the
  ``eddsa-rdfc-2022`` proof, then SHA-256 and the same Ed25519 check, beside valuetrace's
  ``eddsa-rdfc-2022`` rate.

It prints rates (medians of the rounds) and ratios, and asserts no absolute time. Targets:
JOSE EdDSA at least 0.5 and ``eddsa-jcs-2022`` at least 0.25 times the bare Ed25519 rate, and
``eddsa-rdfc-2022`` at least 2 times the pyld-only pipeline.

A second table compares ways to get the credential's RDFC-1.0 canonical N-Quads: valuetrace's
own conversion (``canonicalize_jsonld``), pyld's expansion and toRdf (pyld keeps processed
contexts in its own cache) followed by pyoxigraph's canonicalization, and pyoxigraph's JSON-LD
parser with the contexts inlined. It shows whether each gives valuetrace's result.

    python bench/proofs.py [--seconds S] [--repeat K]

pyld comes with the ``test`` extra of valuetrace.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph
from pyld import jsonld

from valuetrace.demo import build_textile_chain
from valuetrace.did import EcKeyPair, Ed25519KeyPair, KeyType, PublicKey
from valuetrace.did._didkey import base58btc_decode
from valuetrace.jsonld import (
    canonicalize_jsonld,
    canonicalize_nquads,
    load_context,
    pyld_document_loader,
)
from valuetrace.store import Store
from valuetrace.vc import decode_envelope, sign_enveloped, verify_jws
from valuetrace.vc._cryptosuites import CRYPTOSUITES, hash_data
from valuetrace.vc._dataintegrity import add_proof, verify_data_integrity

DEFAULT_SECONDS = 2.0
DEFAULT_REPEAT = 3
JCS_TARGET = 0.25
JOSE_TARGET = 0.5
PYLD_TARGET = 2.0
CREDENTIAL = "dpp-garment"
METHOD = "did:web:brand.valuetrace.example#key-1"
CREATED = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Row:
    """One line of the result: a verification and the bare signature check it contains."""

    name: str
    verify: Callable[[], object]
    bare_name: str
    bare: Callable[[], object]
    rate: float = 0.0
    bare_rate: float = 0.0


def demo_credential() -> dict[str, Any]:
    """Build the demo chain and return the garment passport's payload."""
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "demo.sqlite") as store:
        chain = build_textile_chain(store, now=CREATED)
        stored = store.get_credential(chain.credentials[CREDENTIAL])
        assert stored is not None
        payload: dict[str, Any] = decode_envelope(json.loads(stored.content)).payload
    return payload


def calls_per_second(function: Callable[[], object], seconds: float) -> float:
    """Call ``function`` in batches for about ``seconds`` and return the calls per second."""
    function()
    batch = 1
    calls = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for _ in range(batch):
            function()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed < seconds / 20:
            batch *= 2
    return calls / elapsed


def median_rate(function: Callable[[], object], seconds: float, repeat: int) -> float:
    return statistics.median(calls_per_second(function, seconds) for _ in range(repeat))


def signed_bytes(signed: dict[str, Any], key_type: KeyType) -> tuple[bytes, bytes]:
    """Return a proof's signature and the bytes it signs, computed once outside the timing."""
    proof = signed["proof"]
    unsecured = {name: value for name, value in signed.items() if name != "proof"}
    config = {name: value for name, value in proof.items() if name != "proofValue"}
    config["@context"] = unsecured["@context"]
    suite = CRYPTOSUITES[proof["cryptosuite"]]
    return base58btc_decode(proof["proofValue"][1:]), hash_data(suite, unsecured, config, key_type)


def pyld_only_verify(signed: dict[str, Any], public_key: PublicKey) -> bool:
    """Verify an eddsa-rdfc-2022 proof with pyld for expansion and canonicalization."""
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": pyld_document_loader,
    }
    proof = signed["proof"]
    unsecured = {name: value for name, value in signed.items() if name != "proof"}
    config = {name: value for name, value in proof.items() if name != "proofValue"}
    config["@context"] = unsecured["@context"]
    document_hash = hashlib.sha256(jsonld.normalize(copy.deepcopy(unsecured), options).encode())
    proof_hash = hashlib.sha256(jsonld.normalize(config, options).encode())
    signature = base58btc_decode(proof["proofValue"][1:])
    return public_key.verify(signature, proof_hash.digest() + document_hash.digest())


def build_rows(credential: dict[str, Any]) -> tuple[list[Row], Row]:
    """Sign the credential with every suite and return the rows and the pyld-only row."""
    ed25519 = Ed25519KeyPair.generate()
    p256 = EcKeyPair.generate(KeyType.P256)
    rows: list[Row] = []
    signed_rdfc: dict[str, Any] = {}
    for cryptosuite, key, bare_name in (
        ("eddsa-jcs-2022", ed25519, "Ed25519 verify"),
        ("eddsa-rdfc-2022", ed25519, "Ed25519 verify"),
        ("ecdsa-rdfc-2019", p256, "ECDSA P-256 verify"),
    ):
        signed = add_proof(credential, key, METHOD, cryptosuite=cryptosuite, created=CREATED)
        public_key = key.verification_key
        findings = verify_data_integrity(signed, lambda method, key=public_key: key)
        if findings:
            raise SystemExit(f"{cryptosuite} proof does not verify: {findings}")
        signature, data = signed_bytes(signed, key.key_type)
        name = cryptosuite if key.key_type is KeyType.ED25519 else f"{cryptosuite} (P-256)"
        rows.append(
            Row(
                name=name,
                verify=lambda signed=signed, key=public_key: verify_data_integrity(
                    signed, lambda method: key
                ),
                bare_name=bare_name,
                bare=lambda key=public_key, signature=signature, data=data: key.verify(
                    signature, data
                ),
            )
        )
        if cryptosuite == "eddsa-rdfc-2022":
            signed_rdfc = signed

    p384 = EcKeyPair.generate(KeyType.P384)
    for key, bare_name in (
        (ed25519, "Ed25519 verify"),
        (p256, "ECDSA P-256 verify"),
        (p384, "ECDSA P-384 verify"),
    ):
        rows.append(jose_row(credential, key, bare_name))

    public_key = ed25519.verification_key
    if not pyld_only_verify(signed_rdfc, public_key):
        raise SystemExit("the pyld-only pipeline does not verify the eddsa-rdfc-2022 proof")
    pyld_row = Row(
        name="eddsa-rdfc-2022, pyld only",
        verify=lambda: pyld_only_verify(signed_rdfc, public_key),
        bare_name="",
        bare=lambda: None,
    )
    return rows, pyld_row


def jose_row(credential: dict[str, Any], key: Ed25519KeyPair | EcKeyPair, bare_name: str) -> Row:
    """Sign the credential as a JOSE envelope and time decoding plus ``verify_jws``."""
    envelope = sign_enveloped(credential, key, METHOD)
    public_key = key.verification_key
    decoded = decode_envelope(envelope)
    if verify_jws(decoded, lambda kid: public_key):
        raise SystemExit(f"the {key.jose_algorithm} envelope does not verify")

    def verify() -> object:
        return verify_jws(decode_envelope(envelope), lambda kid: public_key)

    return Row(
        name=f"JOSE {key.jose_algorithm}",
        verify=verify,
        bare_name=bare_name,
        bare=lambda: public_key.verify(decoded.signature, decoded.signing_input),
    )


def inline_contexts(value: Any) -> Any:
    """Replace context URLs by their documents' ``@context``, in scoped contexts too."""
    if isinstance(value, str):
        document = load_context(value)
        if document is None:
            raise SystemExit(f"context {value} is not bundled")
        return inline_contexts(document["@context"])
    if isinstance(value, list):
        return [inline_contexts(item) for item in value]
    if not isinstance(value, dict):
        return value
    inlined = {}
    for term, definition in value.items():
        if isinstance(definition, dict) and "@context" in definition:
            definition = {**definition, "@context": inline_contexts(definition["@context"])}
        inlined[term] = definition
    return inlined


def pyoxigraph_canonical(document: dict[str, Any]) -> str:
    """Parse JSON-LD with pyoxigraph and return its RDFC-1.0 canonical N-Quads."""
    dataset = pyoxigraph.Dataset(
        pyoxigraph.parse(json.dumps(document), format=pyoxigraph.RdfFormat.JSON_LD)
    )
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    serialized = pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS)
    assert serialized is not None
    lines = serialized.decode("utf-8").split("\n")[:-1]
    return "".join(line + "\n" for line in sorted(lines))


def canonicalization_candidates(
    credential: dict[str, Any],
) -> list[tuple[str, Callable[[], str]]]:
    """Return the ways to canonicalize the credential that the second table compares."""
    unsecured = {name: value for name, value in credential.items() if name != "proof"}
    inlined = {**unsecured, "@context": inline_contexts(unsecured["@context"])}
    options = {"documentLoader": pyld_document_loader, "format": "application/n-quads"}
    return [
        ("valuetrace", lambda: canonicalize_jsonld(unsecured)),
        (
            "pyld toRdf + pyoxigraph RDFC",
            lambda: canonicalize_nquads(jsonld.to_rdf(copy.deepcopy(unsecured), options)),
        ),
        ("pyoxigraph JSON-LD, inlined", lambda: pyoxigraph_canonical(inlined)),
    ]


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the machine type elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"seconds each timed round runs (default: {DEFAULT_SECONDS:g})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"timed rounds of each measurement; rates are medians (default: {DEFAULT_REPEAT})",
    )
    arguments = parser.parse_args(argv)
    if arguments.seconds <= 0 or arguments.repeat < 1:
        parser.error("--seconds must be positive and --repeat at least 1")

    credential = demo_credential()
    size = len(json.dumps(credential, separators=(",", ":"), ensure_ascii=False).encode())
    print(
        f"machine: {cpu_model()}, nproc {os.cpu_count()}, Python {platform.python_version()}; "
        f"credential {CREDENTIAL}: {size:,} bytes of compact JSON"
    )
    rows, pyld_row = build_rows(credential)
    for row in rows:
        row.rate = median_rate(row.verify, arguments.seconds, arguments.repeat)
        row.bare_rate = median_rate(row.bare, arguments.seconds, arguments.repeat)
    pyld_row.rate = median_rate(pyld_row.verify, arguments.seconds, arguments.repeat)

    rounds = f"{arguments.repeat} rounds of {arguments.seconds:g} s, medians"
    print(f"\nverifications per second ({rounds})")
    print(f"{'mechanism':<30} {'verify/s':>10}  {'bare verify':<20} {'bare/s':>10}  ratio")
    for row in rows:
        ratio = row.rate / row.bare_rate
        print(
            f"{row.name:<30} {row.rate:>10,.0f}  {row.bare_name:<20} {row.bare_rate:>10,.0f}  "
            f"{ratio:.3f}"
        )
    print(f"{pyld_row.name:<30} {pyld_row.rate:>10,.1f}")

    jcs, rdfc, jose = rows[0], rows[1], rows[3]
    jcs_ratio = jcs.rate / jcs.bare_rate
    pyld_ratio = rdfc.rate / pyld_row.rate
    jose_ratio = jose.rate / jose.bare_rate
    print(
        f"\nJOSE EdDSA / bare Ed25519 verify: {jose_ratio:.3f} "
        f"(target >= {JOSE_TARGET}: {'met' if jose_ratio >= JOSE_TARGET else 'not met'})"
    )
    print(
        f"eddsa-jcs-2022 / bare Ed25519 verify: {jcs_ratio:.3f} "
        f"(target >= {JCS_TARGET}: {'met' if jcs_ratio >= JCS_TARGET else 'not met'})"
    )
    print(
        f"eddsa-rdfc-2022 / pyld-only pipeline: {pyld_ratio:.1f} "
        f"(target >= {PYLD_TARGET:g}: {'met' if pyld_ratio >= PYLD_TARGET else 'not met'})"
    )

    print(f"\nJSON-LD to RDFC-1.0 canonical N-Quads of the credential ({rounds})")
    print(f"{'pipeline':<30} {'documents/s':>11}  quads  same N-Quads as valuetrace")
    expected = canonicalize_jsonld(credential)
    for name, function in canonicalization_candidates(credential):
        result = function()
        rate = median_rate(function, arguments.seconds, arguments.repeat)
        same = "yes" if result == expected else "no"
        print(f"{name:<30} {rate:>11,.1f}  {result.count(chr(10)):>5}  {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
