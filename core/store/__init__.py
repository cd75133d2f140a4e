"""Durable state: SQL rows (sessions, selfies, results, jobs) and image files (blobs)."""

from core.store.blobs import BlobStore
from core.store.db import SessionRow, Store

__all__ = ["BlobStore", "SessionRow", "Store"]
