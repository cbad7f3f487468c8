"""``valuetrace verify FILE --key KEYFILE``: verify one file against a given key.

Test suites hand over the key that signed their credentials, and the issuer is often a URL
whose key cannot be resolved. This mode checks the file's signature with that key and prints
the findings the way ``valuetrace validate`` does. Nothing is fetched and no store is read.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from valuetrace.errors import InputError
from valuetrace.findings import Finding, has_errors
from valuetrace.vc._keyfile import load_verification_key
from valuetrace.vc._verify_key import verify_file_with_key

__all__ = ["EXIT_MISUSE", "EXIT_NOT_VERIFIED", "EXIT_VERIFIED", "verify_with_key_file"]

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_MISUSE = 2


def verify_with_key_file(
    credential_path: Path,
    key_path: Path,
    *,
    as_json: bool = False,
    at: datetime | None = None,
    console: Console | None = None,
    error_console: Console | None = None,
) -> int:
    """Verify the credential or presentation in ``credential_path`` with the key in ``key_path``.

    Prints the verdict and the findings, as JSON when ``as_json`` is true, and returns the exit
    code: 0 when verified, 1 when not, 2 when either file is missing or the key cannot be read.
    ``at`` is the verification time for ``exp`` and ``nbf`` (default: now).
    """
    output = console or Console(emoji=False)
    errors = error_console or Console(stderr=True, emoji=False)

    if not credential_path.is_file():
        errors.print(
            f"[bold red]error:[/bold red] file not found: {escape(str(credential_path))}; give "
            "the file of the credential or presentation to verify",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_MISUSE
    try:
        key = load_verification_key(key_path)
    except InputError as exc:
        errors.print(
            f"[bold red]error:[/bold red] {escape(str(exc))}; give a JWK or a verification "
            "method (Multikey, JsonWebKey) file with --key",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_MISUSE

    findings = verify_file_with_key(credential_path, key, now=at)
    verified = not has_errors(findings)
    if as_json:
        report = {
            "verified": verified,
            "file": str(credential_path),
            "key": key.label,
            "findings": [finding.to_dict() for finding in findings],
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_findings(output, credential_path, key.label, verified, findings)
    return EXIT_VERIFIED if verified else EXIT_NOT_VERIFIED


def _print_findings(
    console: Console, path: Path, key_label: str, verified: bool, findings: list[Finding]
) -> None:
    verdict = "[green]verified[/green]" if verified else "[red]not verified[/red]"
    console.print(
        f"{escape(str(path))}: {verdict} with key {escape(key_label)}",
        highlight=False,
        soft_wrap=True,
    )
    for finding in findings:
        # Messages quote JSON values such as ['a'], so they are printed without markup.
        console.print(
            f"  {finding.severity.value} {finding.code} {finding.path}: {finding.message}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
