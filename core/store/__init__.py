"""Durable state: SQL rows (sessions, selfies, results, jobs) and image files (blobs)."""

from minime.core.store.blobs import BlobStore
from minime.core.store.db import SessionRow, Store

__all__ = ["BlobStore", "SessionRow", "Store"]
