"""Where cucm-spark keeps its state (negotiated versions, journals, history) and config, and how it writes files.

Everything cucm-spark writes holds cluster inventory (users, devices, licences) or run
state, so it is private by default: files are created 0600 and directories 0700 at the
moment they come into being, never chmod-ed afterwards (a reader could open the file in
between). A file or directory that exists already keeps the mode its owner gave it. The
file helpers make no directories: a state directory is made with ``private_dir``, while a
path the user named must lead to a directory that exists.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def state_dir() -> Path:
    """$CUCM_SPARK_STATE_DIR, else $XDG_STATE_HOME/cucm-spark, else ~/.local/state/cucm-spark."""
    explicit = os.environ.get("CUCM_SPARK_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cucm-spark"


def private_dir(path: Path) -> Path:
    """Make ``path`` and each missing parent 0700 (``mkdir -p`` would make the parents by the umask)."""
    missing = [folder for folder in (path, *path.parents) if not folder.is_dir()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            if not folder.is_dir():
                raise
    return path


def private_opener(path: str | os.PathLike[str], flags: int) -> int:
    """An ``opener`` for open(): a file it creates is 0600 from the start."""
    return os.open(path, flags | os.O_CLOEXEC, PRIVATE_FILE)


def create_private(path: Path) -> Path:
    """Create an empty file 0600 unless it exists (a database SQLite then opens; its side files copy the mode)."""
    os.close(private_opener(path, os.O_RDWR | os.O_CREAT))
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, creating it 0600; a device such as /dev/stdout works too."""
    with open(path, "w", encoding="utf-8", opener=private_opener) as out:
        out.write(text)


def replace_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a reader sees the old file or the new, never half of one), 0600."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with open(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
