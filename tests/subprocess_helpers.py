"""Running engine code in a child process: as another user, or to be killed mid-write."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def can_drop_privileges() -> bool:
    """Permission tests need root (to become nobody) and setpriv; as a user, chmod suffices."""
    return os.geteuid() == 0 and Path("/usr/bin/setpriv").exists()


def shared_tmp() -> Path:
    """A folder another user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="nearcode-test-"))
    path.chmod(0o755)
    return path


def python(
    script: str,
    *args: str,
    env: dict[str, str] | None = None,
    as_nobody: bool = False,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Runs `python -c script args...` from the repository root."""
    command = [sys.executable, "-c", script, *args]
    if as_nobody:
        command = AS_NOBODY + command
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout
    )
