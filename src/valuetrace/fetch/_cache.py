"""A content-addressed cache of fetched documents with a URL index.

Bodies are stored once per SHA-256 under ``objects/``. ``index.json`` maps each requested URL
(with the Accept header, when one was sent) to its body, final URL, status, headers, the time it
was stored and the ``max-age`` it came with. Without a directory the cache lives in memory only.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from valuetrace.errors import StoreError

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheEntry:
    """One cached response: where it came from and the SHA-256 of its body.

    ``accept`` is the Accept header of the request, or None when none was sent.
    """

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    sha256: str
    stored_at: float
    max_age: float | None
    accept: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.url, self.accept)


def parse_cache_control(value: str | None) -> tuple[bool, float | None]:
    """Return ``(no_store, max_age)`` from a ``Cache-Control`` header value."""
    if not value:
        return False, None
    no_store = False
    max_age: float | None = None
    for directive in value.split(","):
        name, _, argument = directive.strip().partition("=")
        name = name.strip().lower()
        if name == "no-store":
            no_store = True
        elif name == "max-age":
            try:
                max_age = max(0.0, float(int(argument.strip().strip('"'))))
            except ValueError:
                # RFC 9111 section 4.2.1: an invalid max-age makes the response stale.
                max_age = 0.0
    return no_store, max_age


class DocumentCache:
    """Store fetched bodies by SHA-256 and look them up by URL."""

    def __init__(self, directory: Path | None, clock: Callable[[], float] = time.time) -> None:
        self._directory = directory
        self._clock = clock
        self._index: dict[tuple[str, str | None], CacheEntry] = {}
        self._bodies: dict[str, bytes] = {}
        # Entries stored by this instance. An entry without max-age is fresh only for them, so
        # one walk fetches each document once while a later run fetches it again.
        self._stored_here: set[tuple[str, str | None]] = set()
        if directory is not None:
            self._load_index(directory)

    def lookup(
        self, url: str, *, accept: str | None = None, allow_stale: bool
    ) -> tuple[CacheEntry, bytes] | None:
        """Return the entry and body for ``url`` if it is cached and fresh (or stale is allowed)."""
        entry = self._index.get((url, accept))
        if entry is None:
            return None
        if not allow_stale and not self._is_fresh(entry):
            return None
        body = self._read_body(entry.sha256)
        if body is None:
            return None
        return entry, body

    def store(self, entry: CacheEntry, body: bytes) -> None:
        """Add ``body`` under its SHA-256 and point ``entry.url`` at it."""
        self._index[entry.key] = entry
        self._stored_here.add(entry.key)
        if self._directory is None:
            self._bodies[entry.sha256] = body
            return
        try:
            objects = self._directory / "objects"
            objects.mkdir(parents=True, exist_ok=True)
            target = objects / entry.sha256
            if not target.exists():
                _write_atomically(target, body)
            self._write_index()
        except OSError as error:
            raise StoreError(
                f"cannot write the fetch cache in {self._directory}: {error}; "
                "check that the directory is writable or pass another cache_dir"
            ) from error

    def _is_fresh(self, entry: CacheEntry) -> bool:
        if entry.max_age is None:
            return entry.key in self._stored_here
        return self._clock() - entry.stored_at < entry.max_age

    def _read_body(self, sha256: str) -> bytes | None:
        if self._directory is None:
            return self._bodies.get(sha256)
        try:
            return (self._directory / "objects" / sha256).read_bytes()
        except OSError as error:
            LOGGER.warning("cached body %s cannot be read, fetching again: %s", sha256, error)
            return None

    def _load_index(self, directory: Path) -> None:
        path = directory / "index.json"
        if not path.exists():
            return
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
            for record in records:
                entry = CacheEntry(**record)
                self._index[entry.key] = entry
        except (OSError, ValueError, TypeError) as error:
            LOGGER.warning("fetch cache index %s is unreadable, starting empty: %s", path, error)
            self._index.clear()

    def _write_index(self) -> None:
        assert self._directory is not None
        records = [entry.__dict__ for entry in self._index.values()]
        data = json.dumps(records, indent=1, sort_keys=True).encode("utf-8")
        _write_atomically(self._directory / "index.json", data)


def _write_atomically(target: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def default_cache_dir() -> Path:
    """Return the folder of the fetch cache in the user's cache directory.

    That is ``%LOCALAPPDATA%\\valuetrace\\fetch`` on Windows, ``~/Library/Caches/valuetrace/fetch``
    on macOS, and ``$XDG_CACHE_HOME/valuetrace/fetch`` elsewhere, with ``~/.cache`` when the
    variable is unset or not an absolute path.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        configured = Path(os.environ.get("XDG_CACHE_HOME", ""))
        base = configured if configured.is_absolute() else Path.home() / ".cache"
    return base / "valuetrace" / "fetch"
