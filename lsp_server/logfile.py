"""The servers' log files: in the cache dir, private to the user, rotated (both servers speak
their protocol on stdout, so nothing may be logged there)."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from .engine.locations import cache_root, ensure_private_dir

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files quote queries and paths: 0600 from creation and after every rollover."""

    def _open(self):  # noqa: ANN202 - typeshed's return type differs across versions
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


def log_file_handler(name: str) -> tuple[logging.Handler, Path | str]:
    """A handler for `<cache>/logs/<name>`, and where it writes; stderr when that folder is
    unwritable (the server still runs, and says so)."""
    log_file: Path | str = cache_root() / "logs" / name
    try:
        ensure_private_dir(log_file.parent)
        handler: logging.Handler = _PrivateRotatingFileHandler(
            log_file, maxBytes=2 << 20, backupCount=2, encoding="utf-8"
        )
    except OSError as exc:
        handler = logging.StreamHandler()
        log_file = f"stderr: cannot write {log_file}: {exc.strerror}"
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler, log_file
