"""Alembic revision scripts, oldest first by their numbered file names."""
