"""Blob storage adapters: content-addressed file bytes on the local filesystem."""

from infrastructure.blobs.filesystem import FilesystemBlobStore
from infrastructure.blobs.keys import blob_key, checked_key

__all__ = ["FilesystemBlobStore", "blob_key", "checked_key"]
