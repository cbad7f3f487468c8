"""The terminal form of a report, drawn with rich."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from valuetrace.chain._report import Report
from valuetrace.findings import Severity

__all__ = ["render_report"]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


_SHORT_TYPES = {
    "DigitalProductPassport": "DPP",
    "DigitalConformityCredential": "DCC",
    "DigitalTraceabilityEvent": "DTE",
    "DigitalFacilityRecord": "DFR",
    "DigitalIdentityAnchor": "DIA",
}
_SIGNATURE_STATE = {
    "valid": "yes",
    "invalid": "[red]invalid[/red]",
    "missing": "[red]none[/red]",
    "unchecked": "[red]unchecked[/red]",
}
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_report(report: Report, console: Console, *, max_per_code: int = 5) -> None:
    """Print a report for people: verdict, credentials, claims, provenance and findings."""
    verdict = (
        Text("VERIFIED", style="bold green")
        if report.verified
        else Text("NOT VERIFIED", style="bold red")
    )
    errors = sum(1 for f in report.findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in report.findings if f.severity is Severity.WARNING)
    summary = Text.assemble(
        verdict,
        f"  {report.root or report.root_credential}\n",
        f"{_count(len(report.credentials), 'credential')} checked, {_count(errors, 'error')}, "
        f"{_count(warnings, 'warning')}; "
        f"verification time {report.verified_at.isoformat(timespec='seconds')}",
    )
    console.print(Panel(summary, title="valuetrace chain report", expand=False))

    credentials = Table(title="Credentials", show_lines=False)
    credentials.add_column("type")
    credentials.add_column("credential", overflow="fold")
    for column in ("signed", "anchored", "errors"):
        credentials.add_column(column)
    for row in report.credentials:
        credentials.add_row(
            _SHORT_TYPES.get(str(row["type"]), "?"),
            str(row["id"] or row["ref"]),
            _SIGNATURE_STATE[str(row["signature"])],
            "yes" if row["anchored"] else "[red]no[/red]",
            str(row["errors"]) if row["errors"] else "",
        )
    console.print(credentials)

    if report.claims:
        claims = Table(title="Claims")
        claims.add_column("criterion", overflow="fold", ratio=3)
        claims.add_column("topic", overflow="fold", ratio=2)
        for column in ("attested", "match", "verifier", "strict"):
            claims.add_column(column)
        for result in report.claims:
            claims.add_row(
                result.criterion or "?",
                result.topic or "",
                "yes" if result.attested else "[red]no[/red]",
                result.match or "",
                result.verifier or "",
                "yes" if result.strict_attested else "no",
            )
        console.print(claims)
        strict = sum(1 for result in report.claims if result.strict_attested)
        console.print(
            f"Strict UNTP test-suite rule: {strict} of {len(report.claims)} criteria are "
            "attested by an assessment of the same product id. This is informational; the "
            "walk also accepts the producing facility and verified upstream inputs (column "
            "'match').",
            highlight=False,
        )

    if report.provenance is not None:
        data = report.provenance.to_dict()
        provenance = Table(title="Provenance of declared materials")
        for column in ("origin", "declared kg", "backed kg", "share"):
            provenance.add_column(column)
        for country, values in data["byCountry"].items():
            share = values["share"]
            provenance.add_row(
                country,
                f"{values['declaredMassKg']:g}",
                f"{values['backedMassKg']:g}",
                f"{share:.0%}" if share is not None else "-",
            )
        console.print(provenance)
        recomputed = data["verifiedRatio"]
        declared = data["declaredVerifiedRatio"]
        console.print(
            "Verified ratio: recomputed "
            + (f"{recomputed:.2f}" if recomputed is not None else "-")
            + ", declared "
            + (f"{declared:.2f}" if declared is not None else "-")
        )

    if report.findings:
        lines: list[Text] = []
        shown: dict[str, int] = {}
        hidden: dict[str, int] = {}
        for finding in report.findings:
            if shown.get(finding.code, 0) >= max_per_code:
                hidden[finding.code] = hidden.get(finding.code, 0) + 1
                continue
            shown[finding.code] = shown.get(finding.code, 0) + 1
            lines.append(
                Text.assemble(
                    (f"{finding.severity.value} ", _STYLE[finding.severity]),
                    (finding.code, "bold"),
                    f" {finding.credential or ''} {finding.path}\n",
                    (finding.message, ""),
                )
            )
        for code, count in hidden.items():
            lines.append(Text(f"… and {_count(count, 'more ' + code + ' finding')} (see --json)"))
        console.print(Panel(Group(*lines), title="Findings", expand=False))
