"""A real OpenAI-compatible embedding server on loopback, for tests and `bench speed --remote`:
infinity-emb serving the bundled MiniLM weights from their local path, on the CPU, offline.

Its virtual environment (infinity pins numpy<2 and sentence-transformers<4, so it cannot
share nearcode's) is made once by scripts/setup_infinity.sh.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..engine.embedder import bundled_model_path
from ..engine.privacy import DEFAULT_ENVIRONMENT, OFFLINE_ENVIRONMENT

SETUP_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "setup_infinity.sh"
SERVED_MODEL = "all-minilm-l6-v2"
_START_TIMEOUT_S = 180.0


class ServerSetupError(RuntimeError):
    """The server's environment could not be made (no package index, no checkout)."""


def infinity_environment(timeout_s: float = 1800.0) -> Path:
    """The infinity virtual environment, made on first use (needs the package index once)."""
    if not SETUP_SCRIPT.is_file():
        raise ServerSetupError(f"{SETUP_SCRIPT} is missing: run from a nearcode checkout")
    try:
        done = subprocess.run(
            ["bash", str(SETUP_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServerSetupError(f"setting up infinity took over {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ServerSetupError("cannot set up infinity-emb: " + " | ".join(tail))
    return Path(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class InfinityServer:
    """One infinity process; `start()` returns once it answers /health."""

    def __init__(
        self,
        venv: Path,
        port: int | None = None,
        *,
        api_key: str = "",
        log_file: Path | None = None,
        batch_size: int = 32,
    ) -> None:
        self.venv = venv
        self.port = port or free_port()
        self.api_key = api_key
        self.log_file = log_file
        self.batch_size = batch_size
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL, as a user would configure it."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        command = [
            str(self.venv / "bin" / "infinity_emb"), "v2",
            "--model-id", str(bundled_model_path()),
            "--served-model-name", SERVED_MODEL,
            "--engine", "torch", "--device", "cpu",
            "--batch-size", str(self.batch_size),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--url-prefix", "/v1",
            "--no-model-warmup", "--log-level", "warning",
        ]  # fmt: skip
        if self.api_key:
            command += ["--api-key", self.api_key]
        return command

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # No network: the weights are local, and telemetry is off (nearcode's own switches,
        # and infinity's).
        env.update(OFFLINE_ENVIRONMENT)
        env.update(DEFAULT_ENVIRONMENT)
        env["INFINITY_ANONYMOUS_USAGE_STATS"] = "0"
        env.pop("PYTHONPATH", None)  # nearcode's packages must not shadow infinity's pins
        return env

    def start(self, timeout_s: float = _START_TIMEOUT_S) -> InfinityServer:
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            env=self.environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerSetupError(
                    f"infinity exited with status {self.process.returncode} "
                    f"(log: {self.log_file or 'not kept'})"
                )
            if self.healthy():
                return self
            time.sleep(0.25)
        self.kill()
        raise ServerSetupError(f"infinity did not answer within {timeout_s:.0f} s")

    def healthy(self) -> bool:
        try:
            health = f"http://127.0.0.1:{self.port}/health"  # not under the /v1 prefix
            with urllib.request.urlopen(health, timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash or an unplugged machine would end it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def __enter__(self) -> InfinityServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
