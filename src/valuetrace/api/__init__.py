"""The HTTP application of a valuetrace node (FastAPI)."""
