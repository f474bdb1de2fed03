"""A real HTTP proxy on loopback that forwards to a real embedding server and injects faults:
429 storms (with Retry-After), slow answers, and a server that ignores `dimensions`.

Not a mock: requests cross real sockets twice, and the answers are the real server's.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Faults:
    storm: int = 0  # answer the next N requests with 429
    retry_after: str | None = None  # Retry-After header of those answers
    reject_ratio: float = 0.0  # then answer this share of requests with 429 (no header)
    delay_s: float = 0.0  # wait this long before forwarding
    slow_requests: int = 0  # ... for the next N requests only (0: every request)
    strip_dimensions: bool = False  # drop "dimensions" from requests (a server ignoring it)
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() when the request arrived
    status: int
    inputs: int


class FaultProxy:
    def __init__(self, upstream: str, faults: Faults | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults = faults or Faults()
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client expects

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers, answer = proxy.handle(self.path, dict(self.headers), body)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client timed out and left: expected

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        arrived = time.monotonic()
        payload = json.loads(body)
        inputs = len(payload.get("input", []))
        rejected = self._reject()
        if rejected is not None:
            self._record(Seen(arrived, 429, inputs))
            return 429, rejected, b'{"error": {"message": "rate limit exceeded"}}'
        delay = self._delay()
        if delay:
            time.sleep(delay)
        if self.faults.strip_dimensions and "dimensions" in payload:
            del payload["dimensions"]
            body = json.dumps(payload).encode()
        status, answer_headers, answer = self._forward(path, headers, body)
        self._record(Seen(arrived, status, inputs))
        return status, answer_headers, answer

    def _reject(self) -> dict[str, str] | None:
        with self._lock:
            faults = self.faults
            if faults.storm > 0:
                faults.storm -= 1
                return {"Retry-After": faults.retry_after} if faults.retry_after else {}
            if faults.reject_ratio and faults.rng.random() < faults.reject_ratio:
                return {}
        return None

    def _delay(self) -> float:
        with self._lock:
            faults = self.faults
            if not faults.delay_s:
                return 0.0
            if faults.slow_requests:
                faults.slow_requests -= 1
                if faults.slow_requests == 0:
                    faults.delay_s, delay = 0.0, faults.delay_s
                    return delay
            return faults.delay_s

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            wanted = {"Content-Type", "Authorization"}
            sent = {k: v for k, v in headers.items() if k.title() in wanted}
            connection.request("POST", path, body=body, headers=sent)
            response = connection.getresponse()
            answer = response.read()
            kept = {"Content-Type": response.headers.get("Content-Type", "application/json")}
            return response.status, kept, answer
        except OSError as exc:
            return 502, {}, json.dumps({"error": {"message": f"upstream: {exc}"}}).encode()
        finally:
            connection.close()

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def answered(self, status: int) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.status == status]

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
