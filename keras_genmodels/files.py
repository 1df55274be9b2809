"""Atomic, world-readable file writes (for everything a server or another user reads).

`tempfile.mkstemp` creates files with mode 0600 and `mkdtemp` directories with
0700, so a file written "atomically" through them and renamed into place is
unreadable by a TF Serving process running as another user. Every writer in
the package goes through `atomic_write`, which renames a complete file into
place with the mode an ordinary `open()` would have given it (0666 minus the
umask: 0644 under the usual umask 022).
"""

import contextlib
import hashlib
import os
import pathlib
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_file_mode():
    """The mode `open(path, "w")` would give a new file (0644 under umask 022)."""
    return 0o666 & ~_umask()


def default_dir_mode():
    """The mode `os.mkdir` would give a new directory (0755 under umask 022)."""
    return 0o777 & ~_umask()


@contextlib.contextmanager
def atomic_write(path, suffix=None):
    """Yield a temporary path beside `path`; on success move it into place.

    The temporary file is flushed to disk, given the default file mode and
    renamed over `path` with `os.replace` (atomic on POSIX), so a reader
    sees either the old file or the complete new one. On error the temporary
    file is removed and `path` is untouched.

    Example:

    >>> with atomic_write("out/model.keras") as tmp:
    ...     model.save(tmp)
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                               suffix=path.suffix if suffix is None else suffix)
    os.close(fd)
    try:
        yield pathlib.Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text_atomically(path, text, encoding="utf-8"):
    """Write `text` to `path` through `atomic_write`; return the Path."""
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return pathlib.Path(path)


def make_tree_readable(root):
    """Give `root` and everything under it the default modes (dirs 0755, files 0644).

    Used on a SavedModel version built inside a `mkdtemp` directory (0700)
    before it is renamed into place.
    """
    root = pathlib.Path(root)
    dir_mode, file_mode = default_dir_mode(), default_file_mode()
    for dirpath, _, filenames in os.walk(root):
        os.chmod(dirpath, dir_mode)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), file_mode)


def sha256_file(path):
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
