"""The one exception of backup and restore."""

from __future__ import annotations


class BackupError(Exception):
    """A refusal or a failure of backup or restore; its message is one line for the operator."""
