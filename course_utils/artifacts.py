"""Caches written atomically, with fingerprints so that stale ones are rebuilt.

A cache entry is a folder. It is built in a temporary sibling folder and
renamed into place only once complete, so an interrupted build never leaves
a half-written entry that a later run would trust.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

FINGERPRINT_FILE = "fingerprint.json"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(**parts) -> str:
    """A short stable hash of everything an artifact depends on."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def is_fresh(folder: str | Path, expected: str) -> bool:
    """True when ``folder`` is complete and was built from the same inputs."""
    marker = Path(folder) / FINGERPRINT_FILE
    try:
        return json.loads(marker.read_text())["fingerprint"] == expected
    except (OSError, ValueError, KeyError, TypeError):
        return False


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` or explain clearly why it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-")
        probe.close()
    except OSError as err:
        raise PermissionError(
            f"The course cache directory {folder} is not writable ({err.strerror}). "
            "Fix: set COURSE_CACHE_DIR to a folder you can write, e.g. "
            "`export COURSE_CACHE_DIR=$HOME/.cache/rag-vs-ft`."
        ) from err


def _default_mode(base: int) -> int:
    """``base`` (0o777 for folders, 0o666 for files) less the user's umask, as open() would give."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def _remove(path: Path) -> None:
    # A cache entry may be a symlink to a shared, read-only cache: unlink the link, never its target.
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def atomic_folder(final: str | Path, fingerprint_value: str):
    """Yield a temporary folder; on success, stamp it and rename it to ``final``."""
    final = Path(final)
    ensure_writable(final.parent)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}-tmp-"))
    os.chmod(tmp, _default_mode(0o777))  # mkdtemp makes it owner-only; a shared class cache must stay readable
    try:
        yield tmp
        (tmp / FINGERPRINT_FILE).write_text(json.dumps({"fingerprint": fingerprint_value}))
        if final.exists():
            old = final.with_name(f".{final.name}-old-{os.getpid()}")
            final.rename(old)
            tmp.rename(final)
            _remove(old)
        else:
            tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a file by writing a temporary sibling and renaming it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.chmod(tmp, _default_mode(0o666))  # mkstemp makes it owner-only
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
