"""Backing an archive up (`archivist backup DEST`) and restoring one (`archivist restore SRC`).

A backup is a directory:

    database.dump            `pg_dump --format=custom` of the database
    blobs/ab/cd/<sha256>     every blob the dumped rows reference (documents' files, thumbnails)
    manifest.json            written last: versions, the Alembic revision, and every file
                             with its size and SHA-256 (a directory without it is unfinished)

**Consistent while the service runs.** One REPEATABLE READ transaction exports its snapshot
(`pg_export_snapshot()`), reads the blob keys the documents reference, and stays open while
`pg_dump --snapshot=…` dumps exactly what that transaction sees: the key list and the dump
agree. Blobs are stored before the row that references them commits and are never rewritten,
so every key of the snapshot has its complete file when the snapshot is taken.

Only a purge deletes blobs, and only once no committed row references them (`BlobReleaser`),
which a snapshot does not prevent: a document in the snapshot can be purged, and its blob
deleted, before the blob is copied. So the bulk of the copy comes first, outside any
transaction (the blobs referenced at that moment); then the snapshot is taken and the few
blobs referenced since are copied at once, before the dump, while the snapshot is
milliseconds old (copies of blobs purged meanwhile are dropped). If one of those is gone
already, its documents were purged after the snapshot: the dump would hold a document without
its file, so the backup takes a new snapshot instead, keeping what it copied (content-
addressed, so still right), up to `ATTEMPTS` times. A missing blob that a committed row still
references is a damaged store: refused, naming the key. Bytes are hashed while copied, and a
file whose SHA-256 is not its key's is refused too.

**Restore** goes only into an empty database and an empty blob directory. It reads the
manifest, checks that this Archivist knows the backup's revision, verifies every checksum
(refusing on the first mismatch, naming the file), runs `pg_restore --single-transaction`
(so a failure leaves the database empty), checks that the manifest holds every blob the
restored rows reference, copies the blobs in, and migrates to head if the backup is older.

The modules: `backup` and `restore` (the two operations), `snapshot` (the database side: the
exported snapshot and the blob keys documents reference), `blobs` (copying blobs out and in,
hashing), `manifest` (the layout, `Manifest`, writing, reading and verifying it), `tools`
(finding, checking and running pg_dump and pg_restore, and their libpq environment),
`errors` (`BackupError`).
"""

from infrastructure.backup.backup import ATTEMPTS, BackupReport, backup
from infrastructure.backup.blobs import BlobEntry, check_empty_directory
from infrastructure.backup.errors import BackupError
from infrastructure.backup.manifest import (
    BLOBS,
    DUMP,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    Manifest,
    app_version,
    read_manifest,
    verify_files,
)
from infrastructure.backup.restore import (
    RestoreReport,
    check_empty_database,
    known_revision,
    read_restorable,
    restore,
    verify_backup,
)
from infrastructure.backup.tools import (
    PgTool,
    bundled_bin_dir,
    check_tool,
    libpq_environment,
    pick_tool,
    tool_candidates,
    tool_version,
)

__all__ = [
    "ATTEMPTS",
    "BLOBS",
    "DUMP",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "BackupError",
    "BackupReport",
    "BlobEntry",
    "Manifest",
    "PgTool",
    "RestoreReport",
    "app_version",
    "backup",
    "bundled_bin_dir",
    "check_empty_database",
    "check_empty_directory",
    "check_tool",
    "known_revision",
    "libpq_environment",
    "pick_tool",
    "read_manifest",
    "read_restorable",
    "restore",
    "tool_candidates",
    "tool_version",
    "verify_backup",
    "verify_files",
]
