"""The shape of a blob key, shared by every `BlobStore` adapter.

A key is `<2 hex>/<2 hex>/<64 hex>`: the SHA-256 of the bytes, lower-case, under two levels of
directories named by its first four hex digits. Two levels keep any one directory small (at most
256 entries per level, a million blobs is ~15 files per leaf) without a database of paths.
"""

from __future__ import annotations

import re
from typing import Final

from domain.errors import ValidationFailed

_KEY_RE: Final = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")


def blob_key(sha256_hex: str) -> str:
    """The key of the blob whose SHA-256 (lower-case hex) is `sha256_hex`."""
    return f"{sha256_hex[0:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def checked_key(key: object) -> str:
    """`key` itself if it has exactly the shape `blob_key` makes, else `ValidationFailed`.

    Every adapter checks keys before using them, so a key read from a row or a request can never
    name a path outside the store's root (`../x`, `/etc/passwd`, `aa/bb/../../..`): the pattern
    admits only lower-case hex digits and two slashes, nothing a path could escape with.
    """
    if isinstance(key, str):
        # fullmatch, not match: `$` would accept a trailing newline.
        found = _KEY_RE.fullmatch(key)
        if found is not None:
            first, second, digest = found.groups()
            if digest.startswith(first + second):
                return key
    raise ValidationFailed.on("storage_key", "is not a blob key")
