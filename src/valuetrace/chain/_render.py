"""The terminal form of a report, drawn with rich."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from valuetrace.chain._report import Report
from valuetrace.findings import Severity

__all__ = ["render_report"]

_SHORT_TYPES = {
    "DigitalProductPassport": "DPP",
    "DigitalConformityCredential": "DCC",
    "DigitalTraceabilityEvent": "DTE",
    "DigitalFacilityRecord": "DFR",
    "DigitalIdentityAnchor": "DIA",
}
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_report(report: Report, console: Console, *, max_findings: int = 200) -> None:
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
        f"{len(report.credentials)} credentials checked, {errors} errors, {warnings} warnings; "
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
            "yes" if row["signed"] else "[red]no[/red]",
            "yes" if row["anchored"] else "[red]no[/red]",
            str(row["errors"]) if row["errors"] else "",
        )
    console.print(credentials)

    if report.claims:
        claims = Table(title="Claims")
        for column in ("criterion", "topic", "attested", "match", "verifier", "strict"):
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
        console.print(
            "Strict UNTP test-suite rule (assessment of the same product id): "
            + ("passed" if report.strict_rule_passed else "not met"),
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
        lines = []
        for finding in report.findings[:max_findings]:
            line = Text.assemble(
                (f"{finding.severity.value:7} ", _STYLE[finding.severity]),
                (finding.code, "bold"),
                f"  {finding.credential or ''} {finding.path}\n        {finding.message}",
            )
            lines.append(line)
        if len(report.findings) > max_findings:
            lines.append(Text(f"… and {len(report.findings) - max_findings} more (use --json)"))
        console.print(Panel(Group(*lines), title="Findings", expand=False))
