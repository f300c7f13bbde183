"""Output files the commands write (getp's token ids, bench's JSON, a chat export): checked before any work, then
written atomically (a temporary file in the same directory, then a rename), so a failed run never leaves a partial
file behind and never loses the old one."""

from __future__ import annotations

import os
import tempfile

from moechat.errors import MoechatError


def check_writable(path: str) -> None:
    """Fail before any work if the output file could not be written."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise MoechatError(f"{path}: is a directory")
    if not os.path.isdir(directory):
        raise MoechatError(f"{path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise MoechatError(f"{path}: not writable")


def write_atomic(path: str, text: str) -> None:
    """text -> path through a temporary file beside it (removed again if the write fails), a one-line error."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".moechat-", suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise MoechatError(f"{path}: cannot write: {e.strerror}") from None
