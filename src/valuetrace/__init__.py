"""valuetrace: issue, publish, resolve and verify UN Transparency Protocol credentials."""

from valuetrace.findings import Finding, Severity

__all__ = ["Finding", "Severity", "__version__"]

__version__ = "0.1.0"
