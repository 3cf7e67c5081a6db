"""Importing Archivist reads none of its settings from the environment: they are read when a
command runs (`AppSettings()`), never at import. The CLI and browser tests rely on it: they
fork each `archivist` run from a process that imported the command's modules once, then
give the child its own environment (tests/support/forked_cli.py). A module that read, say,
DATABASE_URL at import would see the fork server's value in every child. What a library
reads at import is listed (`READ_AT_IMPORT`): runs that set it start a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.forked_cli import PRELOAD, READ_AT_IMPORT

_RECORD_READS = """
import json, os, sys
read = []
original = os._Environ.__getitem__
def recording(self, key):
    read.append(key)
    return original(self, key)
os._Environ.__getitem__ = recording
for name in sys.argv[1:]:
    __import__(name)
print(json.dumps(read))
"""


def _is_a_setting(name: str) -> bool:
    return name.startswith("ARCHIVIST_") or name in {"DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"}


def test_the_modules_the_fork_server_imports_read_no_setting_at_import() -> None:
    modules = [name for name in PRELOAD if not name.startswith("tests.")]
    # None of them set: a look-up of one is then a module asking for it, not a library
    # going through the whole environment (which reads every variable there is).
    env = {name: value for name, value in os.environ.items() if not _is_a_setting(name)}
    done = subprocess.run(
        [sys.executable, "-c", _RECORD_READS, *modules],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    read = json.loads(done.stdout.splitlines()[-1])

    assert read, "the recorder saw no read at all: it is not recording"
    assert {name for name in read if _is_a_setting(name)} <= READ_AT_IMPORT
