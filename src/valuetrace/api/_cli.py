"""The ``valuetrace serve`` command: run the HTTP application (EPCIS and VC-API) with uvicorn."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from valuetrace.api._issuing import IssuerKey

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "GENERATE_KEY",
    "register",
]

DEFAULT_DATABASE_URL = "sqlite:///valuetrace.sqlite"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DATABASE_ENV = "VALUETRACE_DB"
GENERATE_KEY = "generate"


def serve(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLAlchemy URL or SQLite file of the event repository "
            f"(default: ${DATABASE_ENV}, else {DEFAULT_DATABASE_URL}).",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; 0.0.0.0 exposes it to the network."),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = DEFAULT_PORT,
    max_document_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-document-bytes",
            min=1,
            help="Largest request body accepted, in bytes (default: 64 MiB).",
        ),
    ] = None,
    issuer_key: Annotated[
        str | None,
        typer.Option(
            "--issuer-key",
            help="Key that POST /credentials/issue signs with: a key id in the store (its "
            "passphrase comes from $VALUETRACE_KEY_PASSPHRASE), or 'generate' for a new "
            "did:key kept in memory. Without it the endpoint returns 503.",
        ),
    ] = None,
    issuer_key_type: Annotated[
        str,
        typer.Option(
            "--issuer-key-type",
            help="Key type of a generated issuer key: Ed25519, P-256 or P-384.",
        ),
    ] = "Ed25519",
    securing: Annotated[
        str,
        typer.Option(
            "--securing",
            help="Securing mechanism for issue requests that name none: 'jose' "
            "(EnvelopedVerifiableCredential), or a cryptosuite: 'eddsa-jcs-2022', "
            "'eddsa-rdfc-2022' or 'ecdsa-rdfc-2019'.",
        ),
    ] = "jose",
) -> None:
    """Serve the EPCIS 2.0 API and the VC-API issue and verify endpoints until interrupted."""
    import uvicorn

    from valuetrace.api import create_app
    from valuetrace.epcis import DEFAULT_MAX_DOCUMENT_BYTES
    from valuetrace.errors import ValuetraceError

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = db or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL
    limit = max_document_bytes or DEFAULT_MAX_DOCUMENT_BYTES
    try:
        issuer = _issuer(url, issuer_key, issuer_key_type)
        application = create_app(url, max_document_bytes=limit, issuer=issuer, securing=securing)
    except (ValuetraceError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    # The application logs every request itself, so uvicorn's access log would repeat it.
    uvicorn.run(application, host=host, port=port, access_log=False, log_config=None)


def _issuer(url: str, issuer_key: str | None, key_type: str = "Ed25519") -> IssuerKey | None:
    """Load or generate the issuer key that ``--issuer-key`` names, and print its identifiers.

    ``key_type`` is the type of a generated key. Raises ``ValueError`` for an unknown type.
    """
    from valuetrace.api._issuing import IssuerKey, load_issuer_key
    from valuetrace.did import KEY_PASSPHRASE_ENV, KeyType, key_secret_from_env
    from valuetrace.errors import SigningKeyError
    from valuetrace.store import Store

    if issuer_key is None:
        return None
    if issuer_key == GENERATE_KEY:
        try:
            generated_type = KeyType(key_type)
        except ValueError:
            known = ", ".join(member.value for member in KeyType)
            raise ValueError(f"--issuer-key-type {key_type!r} is unknown: use {known}") from None
        issuer = IssuerKey.generate(generated_type)
    else:
        secret = key_secret_from_env()
        if secret is None:
            raise SigningKeyError(
                f"--issuer-key {issuer_key} needs the key's passphrase: set {KEY_PASSPHRASE_ENV}"
            )
        with Store.open(url) as store:
            issuer = load_issuer_key(store, issuer_key, secret)
    # Test-suite manifests need these values, so they are printed to standard error.
    typer.echo(f"issuer DID: {issuer.did}", err=True)
    typer.echo(f"issuer verification method: {issuer.verification_method}", err=True)
    return issuer


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)
