"""Alembic migrations of the valuetrace database: the store's tables and the EPCIS event tables."""
