"""The built-in example: a cotton T-shirt value chain, issued, stored and verified."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from valuetrace.chain import Sources, TrustSettings, render_report, verify_chain
from valuetrace.demo._textile import (
    DemoChain,
    Organisation,
    build_textile_chain,
    revoke_credential,
    tamper_credential,
)
from valuetrace.did import key_secret_from_env
from valuetrace.epcis import EventRepository
from valuetrace.store import Store
from valuetrace.vc import decode_envelope

__all__ = [
    "DemoChain",
    "Organisation",
    "build_textile_chain",
    "export_chain",
    "revoke_credential",
    "run_demo",
    "tamper_credential",
]

TAMPERED_CREDENTIAL = "dpp-yarn"
REVOKED_CREDENTIAL = "dcc-organic-cotton"


def _tamper_yarn(payload: dict[str, Any]) -> None:
    """Claim that the yarn lot weighs twice as much as was signed."""
    product = payload["credentialSubject"]["product"]
    product["dimensions"]["weight"]["value"] = product["dimensions"]["weight"]["value"] * 2


def export_chain(store: Store, chain: DemoChain, folder: Path) -> int:
    """Write every credential of the chain to ``folder``, as issued and decoded.

    ``enveloped/NAME.json`` contains the exact bytes served at the credential's URL and
    ``plain/NAME.json`` the decoded credential; ``did/`` contains the DID documents. Returns the
    number of credentials written.
    """
    (folder / "enveloped").mkdir(parents=True, exist_ok=True)
    (folder / "plain").mkdir(parents=True, exist_ok=True)
    (folder / "did").mkdir(parents=True, exist_ok=True)
    for name, url in sorted(chain.credentials.items()):
        stored = store.get_credential(url)
        if stored is None:
            continue
        (folder / "enveloped" / f"{name}.json").write_bytes(stored.content)
        payload = decode_envelope(json.loads(stored.content)).payload
        (folder / "plain" / f"{name}.json").write_text(
            json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
        )
    for organisation in chain.organisations.values():
        document = store.get_did_document(organisation.did)
        if document is not None:
            (folder / "did" / f"{organisation.slug}.json").write_text(
                json.dumps(document, indent=2) + "\n"
            )
    return len(chain.credentials)


def run_demo(
    path: Path,
    *,
    tamper: bool = False,
    revoked: bool = False,
    export: Path | None = None,
    as_json: bool = False,
    console: Console | None = None,
    status_console: Console | None = None,
    keep_store: bool = False,
) -> bool:
    """Build the demo chain in a new store at ``path``, verify the garment and print the report.

    The chain's traceability events are also captured as EPCIS 2.0 events into the event
    repository of the same database. Returns whether the report is verified.
    """
    console = console or Console(emoji=False)
    status_console = status_console or Console(stderr=True, emoji=False)
    now = datetime.now(UTC)
    with Store.open(path) as store:
        with (
            EventRepository.open(path) as repository,
            status_console.status("building the demo chain") as status,
        ):
            chain = build_textile_chain(
                store,
                now=now,
                key_secret=key_secret_from_env(),
                progress=lambda message: status.update(f"demo: {message}"),
                repository=repository,
            )
        if tamper:
            tamper_credential(store, chain.credentials[TAMPERED_CREDENTIAL], _tamper_yarn)
        if revoked:
            revoke_credential(store, chain, REVOKED_CREDENTIAL, now=now)
        if export is not None:
            count = export_chain(store, chain, export)
            status_console.print(f"exported {count} credentials to {export}", highlight=False)

        with status_console.status("verifying the garment's chain"):
            report = verify_chain(
                chain.garment_link,
                Sources(store=store),
                at=now,
                trust=TrustSettings.of(
                    chain.trusted_dids, chain.accreditation_bodies, require_accreditation=True
                ),
            )

    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return report.verified

    render_report(report, console)
    if revoked:
        console.print(
            f"The certification body revoked {chain.credentials[REVOKED_CREDENTIAL]} in its "
            "status list after issuing it; the walk reported it above.",
            highlight=False,
        )
    if tamper:
        console.print(
            f"The demo altered {chain.credentials[TAMPERED_CREDENTIAL]} after it was signed "
            "(it doubled the yarn lot's weight); the walk caught it above.",
            highlight=False,
        )
    if chain.key_secret_generated and keep_store:
        status_console.print(
            "The demo's signing keys were encrypted with a one-time passphrase that was not "
            "kept; set VALUETRACE_KEY_PASSPHRASE to keep them usable.",
            highlight=False,
        )
    if keep_store:
        trust = " ".join(
            [f"--trust-did {did}" for did in chain.trusted_dids]
            + [f"--trust-accreditation-body {did}" for did in chain.accreditation_bodies]
            + ["--require-accreditation"]
        )
        console.print("Verify again, or trace the garment's lot through its events, with:")
        console.print(
            f"  valuetrace verify '{chain.garment_link}' --store {path} {trust}",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"  valuetrace epcis trace '{chain.garment_link}' --direction upstream --db {path}",
            highlight=False,
            soft_wrap=True,
        )
    return report.verified
