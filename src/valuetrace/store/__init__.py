"""Persistent storage of credentials, DID documents, resolver links and encrypted keys."""

from valuetrace.store._store import NewCredential, Store, StoredCredential

__all__ = ["NewCredential", "Store", "StoredCredential"]
