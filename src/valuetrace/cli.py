"""The ``valuetrace`` command."""

from __future__ import annotations

import getpass
import ipaddress
import json
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from valuetrace import __version__
from valuetrace.chain import (
    TRUST_FILE_ENV,
    Sources,
    TrustSettings,
    load_credential_files,
    load_trust_file,
    render_report,
    trust_file_from_env,
    verify_chain,
)
from valuetrace.chain._check import parse_datetime
from valuetrace.did import KeyType
from valuetrace.did._keys import SigningKeyPair
from valuetrace.errors import EnvelopeError, ValuetraceError
from valuetrace.findings import Finding, Severity, has_errors

__all__ = ["app", "main"]

app = typer.Typer(
    help="Issue, publish, resolve and verify UN Transparency Protocol credentials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Create signing keys.", no_args_is_help=True)
did_app = typer.Typer(help="Build DID documents.", no_args_is_help=True)
epcis_app = typer.Typer(
    help="Validate, hash, capture and trace EPCIS 2.0 events.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(did_app, name="did")
status_app = typer.Typer(
    help="Revoke or suspend issued credentials (Bitstring Status List).", no_args_is_help=True
)
app.add_typer(epcis_app, name="epcis")
app.add_typer(status_app, name="status")


def _register_commands() -> None:
    """Add the command groups that live beside the modules they drive."""
    from valuetrace.api import _cli as api_cli
    from valuetrace.epcis import _cli_document, _cli_repository
    from valuetrace.store import _cli as store_cli

    _cli_document.register(epcis_app)
    _cli_repository.register(epcis_app)
    store_cli.register(app)
    api_cli.register(app)


console = Console(emoji=False)
error_console = Console(stderr=True, emoji=False)

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_MISUSE = 2

DEFAULT_STORE = "valuetrace.sqlite"
PASSPHRASE_ENV = "VALUETRACE_KEY_PASSPHRASE"

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        "--db",
        help="SQLite file or database URL of the store (default: $VALUETRACE_DB, else "
        "./valuetrace.sqlite).",
    ),
]


def _fail(message: str, code: int = EXIT_MISUSE) -> NoReturn:
    error_console.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code)


def _store_path(store: str | None) -> str:
    if store is not None:
        return store
    return os.environ.get("VALUETRACE_DB") or os.environ.get("VALUETRACE_STORE", DEFAULT_STORE)


def _open_store(store: str | None, *, must_exist: bool) -> Any:
    from valuetrace.store import Store

    location = _store_path(store)
    is_file = "://" not in location
    if must_exist and is_file and not Path(location).exists():
        if store is not None:
            _fail(
                f"store not found: {location}; give the path of an existing store, or create "
                f"one with 'valuetrace keys new --store {location}' or "
                f"'valuetrace demo --store {location}'"
            )
        return None
    try:
        return Store.open(Path(location) if is_file else location)
    except ValuetraceError as exc:
        _fail(str(exc))


def _parse_time(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_datetime(value)
    except ValueError:
        _fail(f"--at {value!r} is not an ISO 8601 date-time such as 2026-12-04T10:00:00Z")


def _secret(confirm: bool = False) -> bytes:
    from valuetrace.did import key_secret_from_env

    secret = key_secret_from_env()
    if secret is not None:
        return secret
    if not sys.stdin.isatty():
        _fail(f"no key passphrase: set {PASSPHRASE_ENV} or run in a terminal to be asked for one")
    passphrase = getpass.getpass("Key passphrase: ")
    if confirm and getpass.getpass("Repeat the passphrase: ") != passphrase:
        _fail("the passphrases differ; run the command again")
    if not passphrase:
        _fail("an empty passphrase cannot protect a key; choose one")
    return passphrase.encode()


# -- verify ------------------------------------------------------------------------------------


@app.command()
def verify(
    target: Annotated[
        str,
        typer.Argument(
            help="A product's GS1 Digital Link URI, a credential URL (in the store, or on the "
            "web with --online), or a file."
        ),
    ],
    store: StoreOption = None,
    credentials: Annotated[
        list[Path] | None,
        typer.Option(
            "--credentials",
            help="File or folder of credentials (signed or plain) to use before the store; "
            "repeatable.",
        ),
    ] = None,
    trust_did: Annotated[
        list[str] | None,
        typer.Option("--trust-did", help="DID of a trusted register (trust root); repeatable."),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            metavar="FILE",
            help="Verify TARGET, one credential or presentation file, with this verification "
            "method (a JWK, or a Multikey or JsonWebKey document) instead of resolving its "
            "issuer; no chain walk, store or network is used.",
        ),
    ] = None,
    trust_file: Annotated[
        Path | None,
        typer.Option(
            "--trust-file",
            metavar="FILE",
            help="TOML or JSON file of trusted registers and accreditation bodies "
            f"(default: the file named by {TRUST_FILE_ENV}, if set).",
        ),
    ] = None,
    accreditation_body: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-accreditation-body",
            metavar="DID",
            help="DID of a trusted accreditation body; repeatable.",
        ),
    ] = None,
    require_accreditation: Annotated[
        bool,
        typer.Option(
            "--require-accreditation",
            help="Accept a conformity credential as evidence only when its issuer has an "
            "accreditation from a trusted accreditation body.",
        ),
    ] = False,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Verify as of this ISO 8601 time instead of now."),
    ] = None,
    max_depth: Annotated[
        int,
        typer.Option(
            "--max-depth", min=1, help="Maximum number of links the walk follows from the product."
        ),
    ] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object.")
    ] = False,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Fetch the credentials, status lists, DID documents and Digital Link linksets "
            "that the files and the store do not have (default: no network access).",
        ),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Also read documents that earlier --online runs left in the cache, even "
            "expired ones, without network access.",
        ),
    ] = False,
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            "--resolve",
            metavar="HOST:PORT:ADDRESS",
            help="Connect to ADDRESS for HOST:PORT instead of asking DNS, like curl; the "
            "address may be loopback or private and the host may use plain HTTP; repeatable.",
        ),
    ] = None,
    connect_to: Annotated[
        list[str] | None,
        typer.Option(
            "--connect-to",
            metavar="HOST:PORT:ADDRESS:PORT",
            help="Like --resolve, but also connect to another port, like curl; repeatable.",
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            metavar="HOST",
            help="Host name that may resolve to private or loopback addresses; repeatable.",
        ),
    ] = None,
    allow_network: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-network",
            metavar="CIDR",
            help="Network such as 10.20.0.0/16 whose addresses are accepted even if private "
            "or loopback; repeatable.",
        ),
    ] = None,
    ca_bundle: Annotated[
        Path | None,
        typer.Option(
            "--ca-bundle",
            metavar="FILE",
            help="PEM file of CA certificates that HTTPS servers are checked against, "
            "instead of the system trust store.",
        ),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            metavar="DIR",
            help="Folder of the fetch cache (default: valuetrace/fetch in the user's cache "
            "folder, such as ~/.cache/valuetrace/fetch).",
        ),
    ] = None,
    fetch_timeout: Annotated[
        float | None,
        typer.Option(
            "--fetch-timeout",
            metavar="SECONDS",
            min=0.001,
            help="Time limit for fetching one document, redirects included, in seconds "
            "(default: 30).",
        ),
    ] = None,
    fetch_max_bytes: Annotated[
        int | None,
        typer.Option(
            "--fetch-max-bytes",
            metavar="BYTES",
            min=1,
            help="Largest document fetched, in bytes (default: 16 MiB).",
        ),
    ] = None,
) -> None:
    """Walk a product's value chain and check every credential on the way.

    Nothing is fetched from the network unless --online is given.

    Exit code 0 when the report is verified, 1 when it is not, 2 for misuse or unreadable input.
    """
    moment = _parse_time(at)
    if key is not None:
        from valuetrace._cli_verify_key import verify_with_key_file

        if not Path(target).is_file():
            _fail(
                f"file not found: {target}; with --key, TARGET is the file of one credential "
                "or presentation"
            )
        raise typer.Exit(verify_with_key_file(Path(target), key, as_json=as_json, at=moment))
    trust = _trust_settings(
        trust_did or [], trust_file, accreditation_body or [], require_accreditation
    )
    fetch_options = _FetchOptions(
        online=online,
        offline=offline,
        resolve=resolve or [],
        connect_to=connect_to or [],
        allow_host=allow_host or [],
        allow_network=allow_network or [],
        ca_bundle=ca_bundle,
        cache=cache,
        timeout=fetch_timeout,
        max_bytes=fetch_max_bytes,
    )
    fetcher = _open_fetcher(fetch_options)
    opened = _open_store(store, must_exist=True)
    if opened is None and not credentials and not online and not offline:
        error_console.print(
            f"note: no store at {_store_path(store)} and no --credentials given, so only "
            "TARGET itself can be read; pass --store PATH or --credentials PATH",
            highlight=False,
        )
    sources = Sources(store=opened, fetcher=fetcher)
    try:
        paths = list(credentials or [])
        target_path = Path(target)
        if target_path.is_file() and target_path not in paths:
            paths.insert(0, target_path)
        elif not target_path.exists() and _looks_like_path(target):
            _fail(f"file not found: {target}; give a Digital Link URI, a credential URL or a file")
        sources.add_files(load_credential_files(paths))
    except ValuetraceError as exc:
        _fail(str(exc))

    try:
        report = _run_verification(target, sources, moment, trust, max_depth, as_json)
    finally:
        if fetcher is not None:
            fetcher.close()
    try:
        if as_json:
            print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        else:
            render_report(report, console)
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader such as `head` closed the pipe early; the exit code still gives the verdict.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if opened is not None:
        opened.close()
    raise typer.Exit(EXIT_VERIFIED if report.verified else EXIT_NOT_VERIFIED)


def _looks_like_path(target: str) -> bool:
    return "://" not in target and not target.startswith(("did:", "urn:"))


def _trust_settings(
    trust_dids: list[str],
    trust_file: Path | None,
    accreditation_bodies: list[str],
    require_accreditation: bool,
) -> TrustSettings:
    """Combine the trust options with the trust file (given, or named by the environment)."""
    try:
        settings = TrustSettings.of(
            trust_dids, accreditation_bodies, require_accreditation=require_accreditation
        )
        path = trust_file or trust_file_from_env()
        if path is not None:
            settings = settings.merged(load_trust_file(path))
    except ValuetraceError as exc:
        _fail(str(exc))
    return settings


def _run_verification(
    target: str,
    sources: Sources,
    moment: datetime,
    trust: TrustSettings,
    max_depth: int,
    quiet: bool,
) -> Any:
    if quiet or not error_console.is_terminal:
        return verify_chain(target, sources, at=moment, trust=trust, max_depth=max_depth)
    with error_console.status("walking the chain") as status:

        def progress(count: int, ref: str) -> None:
            status.update(f"walking the chain: {count} credentials checked, last {ref}")

        return verify_chain(
            target, sources, at=moment, trust=trust, max_depth=max_depth, progress=progress
        )


@dataclass(frozen=True)
class _FetchOptions:
    """The fetch options of ``valuetrace verify`` as given on the command line."""

    online: bool
    offline: bool
    resolve: list[str]
    connect_to: list[str]
    allow_host: list[str]
    allow_network: list[str]
    ca_bundle: Path | None
    cache: Path | None
    timeout: float | None
    max_bytes: int | None

    def network_options(self) -> list[str]:
        """Return the names of the given options that only matter when fetching online."""
        present = {
            "--resolve": bool(self.resolve),
            "--connect-to": bool(self.connect_to),
            "--allow-host": bool(self.allow_host),
            "--allow-network": bool(self.allow_network),
            "--ca-bundle": self.ca_bundle is not None,
            "--fetch-timeout": self.timeout is not None,
            "--fetch-max-bytes": self.max_bytes is not None,
        }
        return [name for name, is_present in present.items() if is_present]


def _open_fetcher(options: _FetchOptions) -> Any:
    """Build the fetcher of ``verify``, or return None without --online or --offline."""
    from valuetrace.fetch import (
        Fetcher,
        FetchPolicy,
        Timeouts,
        default_cache_dir,
        parse_connect_to,
        parse_resolve,
    )

    if options.online and options.offline:
        _fail("--online and --offline exclude each other; give one of them")
    if not options.online:
        ignored = options.network_options()
        if ignored:
            _fail(f"{', '.join(ignored)} apply only with --online; add --online")
        if not options.offline:
            if options.cache is not None:
                _fail("--cache applies with --online or --offline; add one of them")
            return None

    try:
        host_map = dict(parse_resolve(value) for value in options.resolve)
        connect_map = dict(parse_connect_to(value) for value in options.connect_to)
        networks = tuple(ipaddress.ip_network(value) for value in options.allow_network)
        policy = FetchPolicy(
            allowed_hosts=frozenset(options.allow_host),
            allowed_networks=networks,
            host_map=host_map,
            connect_to=connect_map,
            ca_bundle=options.ca_bundle,
            offline=options.offline,
        )
        if options.timeout is not None:
            policy = replace(policy, timeout=Timeouts(total=options.timeout))
        if options.max_bytes is not None:
            policy = replace(policy, max_bytes=options.max_bytes)
        return Fetcher(policy, cache_dir=options.cache or default_cache_dir())
    except ValueError as exc:
        _fail(f"invalid fetch option: {exc}")
    except ValuetraceError as exc:
        _fail(str(exc))


# -- validate ----------------------------------------------------------------------------------


def _validate_file(path: Path) -> list[Finding]:
    from valuetrace.untp import validate_credential
    from valuetrace.vc import decode_envelope, is_enveloped

    ref = str(path)
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        return [
            Finding(
                "credential.unreadable", Severity.ERROR, f"cannot read {ref}: {exc.strerror}", ref
            )
        ]
    except (ValueError, UnicodeDecodeError) as exc:
        return [
            Finding("credential.malformed", Severity.ERROR, f"{ref} is not valid JSON: {exc}", ref)
        ]
    if not isinstance(document, dict):
        return [Finding("credential.malformed", Severity.ERROR, f"{ref} holds no JSON object", ref)]
    if str(document.get("id", "")).startswith("did:") and "verificationMethod" in document:
        return [
            Finding(
                "credential.malformed",
                Severity.ERROR,
                f"{ref} is a DID document, not a credential; validate credentials only",
                ref,
            )
        ]
    findings: list[Finding] = []
    if is_enveloped(document):
        try:
            document = decode_envelope(document).payload
        except EnvelopeError as exc:
            return [Finding("envelope.malformed", Severity.ERROR, f"{ref}: {exc}", ref, "$.id")]
        findings.append(
            Finding(
                "signature.unchecked",
                Severity.INFO,
                "the envelope was decoded but its signature was not checked; "
                "use 'valuetrace verify'",
                ref,
            )
        )
    elif "proof" in document:
        findings.append(
            Finding(
                "signature.unchecked",
                Severity.INFO,
                "the credential has an embedded proof that was not checked; "
                "use 'valuetrace verify'",
                ref,
                "$.proof",
            )
        )
    findings.extend(validate_credential(document, credential_ref=ref))
    return findings


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Credential files, plain or enveloped.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check credentials against the VC Data Model 2.0 and UNTP schemas and their contexts.

    Exit code 1 when any file has an error.
    """
    for path in files:
        if not path.is_file():
            _fail(f"file not found: {path}; give credential files (JSON) to validate")
    results = {str(path): _validate_file(path) for path in files}
    failed = any(has_errors(findings) for findings in results.values())
    if as_json:
        print(
            json.dumps(
                {
                    "valid": not failed,
                    "files": [
                        {
                            "file": name,
                            "valid": not has_errors(findings),
                            "findings": [f.to_dict() for f in findings],
                        }
                        for name, findings in results.items()
                    ],
                },
                indent=2,
            )
        )
    else:
        for name, findings in results.items():
            verdict = "[red]invalid[/red]" if has_errors(findings) else "[green]valid[/green]"
            console.print(f"{name}: {verdict}", highlight=False)
            for finding in findings:
                console.print(
                    f"  {finding.severity.value} {finding.code} {finding.path}: {finding.message}",
                    highlight=False,
                )
    raise typer.Exit(EXIT_NOT_VERIFIED if failed else EXIT_VERIFIED)


# -- issue, keys, did --------------------------------------------------------------------------


class ProofFormat(StrEnum):
    """Securing mechanisms of ``valuetrace issue --proof``."""

    JOSE = "jose"
    EDDSA_JCS_2022 = "eddsa-jcs-2022"
    EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
    ECDSA_RDFC_2019 = "ecdsa-rdfc-2019"


def _check_proof_key(proof: ProofFormat, key_type: KeyType, key_id: str) -> None:
    """Exit with an error unless ``proof`` can sign with a key of ``key_type``."""
    accepted: frozenset[KeyType] = frozenset(KeyType)
    if proof is not ProofFormat.JOSE:
        from valuetrace.vc._cryptosuites import CRYPTOSUITES

        accepted = CRYPTOSUITES[proof.value].key_types
    if key_type in accepted:
        return
    names = " or ".join(sorted(item.value for item in accepted))
    _fail(
        f"--proof {proof.value} signs with {names} keys, but {key_id} is "
        f"{key_type.with_article} key; choose another --proof or a key of a fitting type"
    )


def _secure_credential(
    credential: dict[str, Any], key: SigningKeyPair, key_id: str, proof: ProofFormat
) -> dict[str, Any]:
    """Sign ``credential`` with the securing mechanism ``proof``.

    Raises ``ValueError`` when ``key_id`` is not a key of the credential's issuer or the key
    does not fit ``proof``, and a ``ValuetraceError`` when ``key_id`` is not a DID URL or an
    RDF cryptosuite cannot canonicalize the credential.
    """
    from valuetrace.did import did_of
    from valuetrace.vc import credential_issuer, sign_enveloped
    from valuetrace.vc._dataintegrity import add_proof

    if proof is ProofFormat.JOSE:
        return sign_enveloped(credential, key, key_id)

    issuer = credential_issuer(credential)
    if issuer is None or did_of(key_id) != issuer:
        raise ValueError(
            f"--key-id {key_id} is not a key of the credential's issuer {issuer!r}: sign with a "
            "key from the issuer's DID document"
        )
    created = datetime.now(UTC).replace(microsecond=0)
    return add_proof(credential, key, key_id, cryptosuite=proof.value, created=created)


@app.command()
def issue(
    source: Annotated[Path, typer.Argument(help="Plain credential JSON to sign.")],
    key_id: Annotated[
        str,
        typer.Option(
            "--key-id", help="Verification method id of the key, e.g. did:web:a.example#key-1."
        ),
    ],
    store: StoreOption = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="URL the credential is published at (default: its id)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the secured credential to this file."),
    ] = None,
    proof: Annotated[
        ProofFormat,
        typer.Option(
            "--proof",
            help="Securing mechanism: jose wraps the credential in an enveloped VC (vc+jwt) "
            "and works with every key type; eddsa-* Data Integrity proofs need an Ed25519 key, "
            "ecdsa-rdfc-2019 a P-256 or P-384 key.",
        ),
    ] = ProofFormat.JOSE,
) -> None:
    """Validate a credential, secure it (enveloped VC or Data Integrity proof) and store it."""
    from valuetrace.did import decrypt_private_key, public_key_of_encrypted
    from valuetrace.untp import validate_credential

    try:
        credential = json.loads(source.read_bytes())
    except OSError as exc:
        _fail(f"cannot read {source}: {exc.strerror}")
    except (ValueError, UnicodeDecodeError) as exc:
        _fail(f"{source} is not valid JSON: {exc}")
    if not isinstance(credential, dict):
        _fail(f"{source} holds no JSON object; a credential is an object")
    from valuetrace.vc import is_enveloped

    if is_enveloped(credential):
        _fail(f"{source} is already an enveloped (signed) credential; give the plain credential")
    if "proof" in credential:
        _fail(f"{source} already has a proof; give the plain credential")
    findings = validate_credential(credential, credential_ref=str(source))
    if has_errors(findings):
        for finding in findings:
            error_console.print(
                f"  {finding.code} {finding.path}: {finding.message}", highlight=False
            )
        _fail(f"{source} is not a valid UNTP credential; fix the findings above", EXIT_NOT_VERIFIED)
    location = url or credential.get("id")
    if not isinstance(location, str):
        _fail("the credential has no id; give the URL it is published at with --url")

    opened = _open_store(store, must_exist=True)
    if opened is None:
        _fail(
            f"no store at {_store_path(store)}; pass --store PATH of the store that holds "
            "the key, or create a key with 'valuetrace keys new --store PATH'"
        )
    if opened.get_credential(location) is not None:
        _fail(f"a credential is already stored at {location}; give another --url")
    blob = opened.get_key(key_id)
    if blob is None:
        _fail(
            f"no key {key_id} in the store {_store_path(store)}; "
            "create one with 'valuetrace keys new'"
        )
    try:
        _check_proof_key(proof, public_key_of_encrypted(blob).key_type, key_id)
        key = decrypt_private_key(blob, _secret())
        secured = _secure_credential(credential, key, key_id, proof)
    except ValuetraceError as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc))
    content = json.dumps(secured, separators=(",", ":")).encode()
    from valuetrace.chain import subject_keys
    from valuetrace.vc import credential_issuer

    types = credential.get("type")
    credential_type = next(
        (
            t
            for t in (types if isinstance(types, list) else [types])
            if isinstance(t, str) and t != "VerifiableCredential"
        ),
        None,
    )
    try:
        opened.put_credential(
            location,
            content,
            credential_id=credential.get("id") if isinstance(credential.get("id"), str) else None,
            credential_type=credential_type,
            issuer=credential_issuer(credential),
            subject_ids=[identifier for _, identifier in subject_keys(credential)],
        )
    except ValuetraceError as exc:
        _fail(str(exc))
    if output is not None:
        output.write_bytes(content)
        error_console.print(f"wrote {output}", highlight=False)
    print(content.decode())
    error_console.print(f"stored the signed credential at {location}", highlight=False)
    opened.close()


@keys_app.command("new")
def keys_new(
    did: Annotated[
        str | None,
        typer.Option("--did", help="did:web DID the key belongs to (default: a new did:key)."),
    ] = None,
    fragment: Annotated[
        str, typer.Option("--fragment", help="Fragment of the verification method id.")
    ] = "key-1",
    key_type: Annotated[
        KeyType,
        typer.Option("--type", help="Key algorithm of the new key.", case_sensitive=False),
    ] = KeyType.ED25519,
    store: StoreOption = None,
) -> None:
    """Create a signing key (Ed25519, P-256 or P-384), encrypted with a passphrase, in the store.

    The passphrase comes from $VALUETRACE_KEY_PASSPHRASE or is asked for.
    """
    from valuetrace.did import did_key_from_public_key, encrypt_private_key
    from valuetrace.did._keys import generate_key_pair

    key = generate_key_pair(key_type)
    if did is None:
        did = did_key_from_public_key(key.verification_key)
        kid = f"{did}#{did.removeprefix('did:key:')}"
    else:
        if not did.startswith("did:"):
            _fail(f"--did {did!r} is not a DID; use the form did:web:example.com")
        kid = f"{did}#{fragment}"
    opened = _open_store(store, must_exist=False)
    if opened.get_key(kid) is not None:
        _fail(f"the store already holds a key {kid}; choose another --fragment")
    secret = _secret(confirm=True)
    try:
        opened.put_key(kid, encrypt_private_key(key, secret))
    except ValuetraceError as exc:
        _fail(str(exc))
    opened.close()
    print(f"key id: {kid}")
    print(f"key type: {key.key_type.value}")
    print(f"public key (multibase): {key.verification_key.multibase()}")


@did_app.command("web")
def did_web(
    did: Annotated[str, typer.Argument(help="The did:web DID, e.g. did:web:spinner.example.com.")],
    key_id: Annotated[
        list[str] | None,
        typer.Option(
            "--key-id", help="Key in the store to list; repeatable (default: all keys of the DID)."
        ),
    ] = None,
    dia_url: Annotated[
        str | None,
        typer.Option("--dia-url", help="URL of the organisation's Digital Identity Anchor."),
    ] = None,
    store: StoreOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write did.json here instead of printing it."),
    ] = None,
) -> None:
    """Build the DID document of a did:web identity from its keys, and store it.

    Each Ed25519, P-256 or P-384 key is published as a Multikey verification method. The store
    keeps the document, so that verification finds the keys; publish the printed or written
    document at the DID's URL for others.
    """
    from valuetrace.did import (
        PublicKey,
        build_did_web_document,
        did_web_to_url,
        public_key_of_encrypted,
    )

    try:
        location = did_web_to_url(did)
    except ValuetraceError as exc:
        _fail(str(exc))
    opened = _open_store(store, must_exist=True)
    if opened is None:
        _fail(
            f"no store at {_store_path(store)}; "
            f"create keys first with 'valuetrace keys new --did {did}'"
        )
    kids = key_id or [kid for kid in opened.list_keys() if kid.split("#")[0] == did]
    if not kids:
        _fail(f"no key of {did} in the store; create one with 'valuetrace keys new --did {did}'")
    keys: list[tuple[str, bytes | PublicKey]] = []
    for kid in kids:
        blob = opened.get_key(kid)
        if blob is None:
            _fail(f"no key {kid} in the store")
        try:
            keys.append((kid.split("#", 1)[1], public_key_of_encrypted(blob)))
        except ValuetraceError as exc:
            _fail(str(exc))
    document = build_did_web_document(did, keys, dia_url=dia_url)
    opened.put_did_document(did, document)
    text = json.dumps(document, indent=2)
    if output is not None:
        output.write_text(text + "\n")
        error_console.print(f"wrote {output}; publish it at {location}", highlight=False)
    else:
        print(text)
    opened.close()


# -- status ----------------------------------------------------------------------------------


def _status_change(credential_url: str, store: str | None, purpose: str, value: bool) -> None:
    """Set or clear a credential's bit in its issuer's status list, and sign the list again."""
    from valuetrace.did import decrypt_private_key
    from valuetrace.vc import credential_issuer, decode_envelope, sign_enveloped
    from valuetrace.vc._statuslist import StatusList, status_list_credential

    opened = _open_store(store, must_exist=True)
    if opened is None:
        _fail(f"no store at {_store_path(store)}; pass --store with the issuer's store")
    stored = opened.get_credential(credential_url)
    if stored is None:
        _fail(f"no credential stored at {credential_url}")
    try:
        credential = decode_envelope(json.loads(stored.content)).payload
    except (ValueError, ValuetraceError) as exc:
        _fail(f"the credential at {credential_url} cannot be decoded: {exc}")
    entries = credential.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries]
    entry = next(
        (
            e
            for e in entries
            if isinstance(e, dict)
            and e.get("type") == "BitstringStatusListEntry"
            and e.get("statusPurpose") == purpose
        ),
        None,
    )
    if entry is None:
        _fail(f"{credential_url} has no BitstringStatusListEntry for {purpose}")
    list_url = str(entry.get("statusListCredential"))
    index = int(str(entry.get("statusListIndex")))
    list_stored = opened.get_credential(list_url)
    if list_stored is None:
        _fail(f"the status list {list_url} is not in this store; run the command on the issuer's")
    list_credential = decode_envelope(json.loads(list_stored.content)).payload
    status_list = StatusList.decode(str(list_credential["credentialSubject"]["encodedList"]))
    status_list.set(index, value)
    issuer = credential_issuer(list_credential)
    if issuer is None:
        _fail(f"the status list {list_url} names no issuer")
    kids = [kid for kid in opened.list_keys() if kid.split("#")[0] == issuer]
    if not kids:
        _fail(f"no signing key of {issuer} in the store; only the list's issuer can change it")
    blob = opened.get_key(kids[0])
    try:
        key = decrypt_private_key(blob, _secret())
    except ValuetraceError as exc:
        _fail(str(exc))
    updated = status_list_credential(
        status_list,
        credential_id=list_url,
        issuer=issuer,
        purpose=purpose,
        valid_from=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    )
    envelope = sign_enveloped(updated, key, kids[0])
    opened.put_credential(
        list_url,
        json.dumps(envelope, separators=(",", ":")).encode(),
        credential_id=list_url,
        credential_type="BitstringStatusListCredential",
        issuer=issuer,
        replace=True,
    )
    opened.close()
    state = "set" if value else "cleared"
    print(f"{purpose} bit {index} of {list_url} {state} for {credential_url}")


@status_app.command("revoke")
def status_revoke(
    credential: Annotated[str, typer.Argument(help="URL of the stored credential to revoke.")],
    store: StoreOption = None,
) -> None:
    """Revoke a credential: set its bit in the issuer's revocation list and re-sign the list."""
    _status_change(credential, store, "revocation", True)


@status_app.command("suspend")
def status_suspend(
    credential: Annotated[str, typer.Argument(help="URL of the stored credential to suspend.")],
    store: StoreOption = None,
) -> None:
    """Suspend a credential through its suspension list entry."""
    _status_change(credential, store, "suspension", True)


@status_app.command("reinstate")
def status_reinstate(
    credential: Annotated[str, typer.Argument(help="URL of the suspended credential.")],
    store: StoreOption = None,
) -> None:
    """Lift a suspension: clear the credential's bit in the issuer's suspension list."""
    _status_change(credential, store, "suspension", False)


# -- demo --------------------------------------------------------------------------------------


@app.command()
def demo(
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="Build the demo in this SQLite file (default: a temporary folder)."
        ),
    ] = None,
    tamper: Annotated[
        bool, typer.Option("--tamper", help="Alter one upstream credential after signing.")
    ] = False,
    revoked: Annotated[
        bool,
        typer.Option("--revoked", help="Revoke the organic cotton certificate after issuing it."),
    ] = False,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", help="Write every credential to this folder, enveloped and decoded."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object.")
    ] = False,
) -> None:
    """Build a signed cotton T-shirt value chain and verify the garment.

    Exit code 0 when the garment's chain is verified, 1 when it is not.
    """
    from valuetrace.demo import run_demo

    workdir: tempfile.TemporaryDirectory[str] | None = None
    if store is None:
        workdir = tempfile.TemporaryDirectory(prefix="valuetrace-demo-")
        path = Path(workdir.name) / "demo.sqlite"
    else:
        path = store
        if path.exists():
            _fail(f"{path} already exists; the demo builds a fresh store, so give a new path")
    try:
        verified = run_demo(
            path,
            tamper=tamper,
            revoked=revoked,
            export=export,
            as_json=as_json,
            console=console,
            status_console=error_console,
            keep_store=store is not None,
        )
    except ValuetraceError as exc:
        _fail(str(exc))
    finally:
        if workdir is not None:
            workdir.cleanup()
    raise typer.Exit(EXIT_VERIFIED if verified else EXIT_NOT_VERIFIED)


@app.command()
def version() -> None:
    """Print the version of valuetrace."""
    print(__version__)


def _print_version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Issue, publish, resolve and verify UN Transparency Protocol credentials."""


_register_commands()


def main() -> None:
    """Run the command line, turning unexpected input errors into exit code 2."""
    try:
        app()
    except ValuetraceError as exc:
        error_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        sys.exit(EXIT_MISUSE)
