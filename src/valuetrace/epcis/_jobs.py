"""Capture jobs: the record of one capture request and its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from valuetrace.epcis._document import EPCISProblem

__all__ = ["CaptureJob", "job_from_row", "problems_from_json", "problems_to_json"]


@dataclass(frozen=True)
class CaptureJob:
    """The state of one capture: whether it ran, succeeded, how many events it stored and why not.

    ``errors`` lists every problem that made the repository reject the document. It is empty
    when ``success`` is true.
    """

    id: str
    running: bool
    success: bool
    captured: int
    errors: list[EPCISProblem]
    created_at: datetime
    finished_at: datetime | None


def _utc(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes, and the repository writes only UTC.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def problems_to_json(problems: list[EPCISProblem]) -> list[dict[str, str]]:
    """Turn EPCIS problems into plain dicts for the ``errors`` column."""
    return [
        {"path": problem.path, "rule": problem.rule, "message": problem.message}
        for problem in problems
    ]


def problems_from_json(items: list[dict[str, str]]) -> list[EPCISProblem]:
    """Turn the ``errors`` column back into EPCIS problems."""
    return [
        EPCISProblem(path=item["path"], rule=item["rule"], message=item["message"])
        for item in items
    ]


def job_from_row(row: Row[Any]) -> CaptureJob:
    """Build a capture job from a row of the ``epcis_capture_jobs`` table."""
    created_at = _utc(row.created_at)
    assert created_at is not None  # the column is NOT NULL
    return CaptureJob(
        id=row.id,
        running=bool(row.running),
        success=bool(row.success),
        captured=int(row.captured),
        errors=problems_from_json(list(row.errors)),
        created_at=created_at,
        finished_at=_utc(row.finished_at),
    )
