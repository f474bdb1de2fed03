"""Embeddings from an OpenAI-compatible server: `POST {url}/embeddings` (Ollama,
text-embeddings-inference, vLLM, infinity, or a hosted API).

Only the standard library (http.client): the editor install gains no dependency, and each
worker thread keeps one keep-alive connection, which is all the pipelining needed here.

- Batching: texts go in requests of `batch_size`; a request the server calls too large
  (413, or 400/422 saying "too many"/"at most") is split in half, and later requests stay
  at the smaller size.
- Concurrency: at most `max_concurrency` requests in flight (a pool of worker threads).
- Retries: 408, 429, 5xx, timeouts and connection errors are retried with exponential
  backoff and full jitter, never sooner than the server's Retry-After. When they run out,
  EncoderUnavailable: searches answer lexically and background embedding tries again later.
- Permanent problems (401/403, 404, other 4xx, a dimension mismatch) raise ProviderError
  (a ModelLoadError) with one line that says what to fix.
- Queries (`encode_query`) never wait on a failing server: while one is known to be down
  they fail at once, and otherwise they make at most two quick attempts.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from .. import __version__
from .embedder import DEFAULT_MODEL_ALIAS, EncoderUnavailable, LazyEncoder, ModelLoadError
from .settings import PROVIDER_OPENAI, EmbeddingsProvider, EngineSettings

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_BACKOFF_BASE_S = 0.5
_BACKOFF_CAP_S = 15.0  # also the longest a down server goes unprobed by background work
_RETRY_AFTER_CAP_S = 60.0
_BULK_ATTEMPTS = 8  # ~25 s of backoff in all before a round gives up (then: retry later)
_QUERY_ATTEMPTS = 2
_QUERY_PAUSE_S = 0.2
_PROBE_TEXT = "nearcode"
_SHORTEST_CUT = 200  # characters: a text refused as too long is halved down to this
# Phrases with which servers refuse a request for having too many inputs (OpenAI, TEI,
# infinity's pydantic "List should have at most 2048 items", vLLM).
_TOO_MANY = ("too many", "at most", "batch size", "maximum", "max_client_batch", "too large")


class ProviderError(ModelLoadError):
    """The server refuses the settings (key, URL, model, dimensions): semantic search is off
    until they are fixed; lexical search still works."""


class _Transient(Exception):
    """One failed attempt worth retrying; `retry_after` is the server's wish, in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _TooMany(Exception):
    """The server refused the request's number (or size) of inputs."""


class _Aborted(Exception):
    """Another batch of the same call failed: this one stops early."""


def public_url(url: str) -> str:
    """The URL without user info, query or fragment: safe for status lines and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def destination(settings: EngineSettings) -> dict[str, str | None]:
    """Where embeddings are computed: shown by every status (CLI, LSP, the status bar)."""
    provider = settings.embeddings
    if provider.remote:
        return {
            "provider": provider.provider,
            "url": public_url(provider.url),
            "model": provider.model,
        }
    return {"provider": "local", "url": None, "model": settings.model or DEFAULT_MODEL_ALIAS}


def endpoint_of(url: str) -> str:
    """`{url}/embeddings`, unless the URL already names the endpoint."""
    base = url.rstrip("/")
    return base if base.endswith("/embeddings") else base + "/embeddings"


def config_problem(provider: EmbeddingsProvider) -> str | None:
    """What is wrong with the provider settings, before any request, or None."""
    if provider.provider != PROVIDER_OPENAI:
        return (
            f"unknown embeddings provider {provider.provider!r} (known: local, openai-compatible)"
        )
    parts = urlsplit(provider.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"embeddings url {public_url(provider.url) or '(empty)'!r} is not an http(s) URL: "
            "set it to the server's base URL, e.g. http://localhost:11434/v1"
        )
    if not provider.model:
        return "embeddings model is empty: set it to the model name the server serves"
    return None


class RemoteEncoder(LazyEncoder):
    """The Encoder protocol over an OpenAI-compatible embeddings server."""

    def __init__(self, provider: EmbeddingsProvider) -> None:
        # The index is keyed by what determines the vectors: provider, model and dimensions.
        # Not the URL: moving the server, or putting a load balancer in front of it, serves
        # the same model and so the same vectors, and must not force a rebuild. (A different
        # model served under the same name is the user's to clean: `nearcode clean`.)
        dims = provider.dimensions or "native"
        super().__init__(f"{provider.provider}:{provider.model}|dims={dims}")
        self.provider = provider
        self.url = public_url(provider.url)
        self._endpoint = urlsplit(endpoint_of(provider.url))
        self._timeout_s = max(provider.timeout_ms, 1) / 1000
        self._batch_size = max(provider.batch_size, 1)
        self._dim = provider.dimensions
        self._fatal: ProviderError | None = None
        problem = config_problem(provider)
        if problem is not None:
            self._fatal = ProviderError(problem)
        self._state = threading.Lock()
        self._retry_at = 0.0  # monotonic time before which the server is taken as down
        self._failures = 0  # consecutive calls that gave up
        self._last_problem = ""
        self._local = threading.local()  # one keep-alive connection per thread
        self._pool: ThreadPoolExecutor | None = None

    # -- the Encoder protocol (identity, dim and load() from LazyEncoder) ------------------------

    @property
    def loaded(self) -> bool:
        """True when a query can expect an answer now: the server answered and is not down."""
        return self._ready and self._fatal is None and time.monotonic() >= self._retry_at

    @property
    def problem(self) -> str:
        """Why the server is not answering now, or ''."""
        if self._fatal is not None:
            return str(self._fatal)
        if time.monotonic() >= self._retry_at or not self._last_problem:
            return ""
        return f"the embedding server at {self.url} is unavailable ({self._last_problem})"

    def _load(self) -> None:
        """Checks the server with one tiny request (learns the dimension)."""
        self.encode([_PROBE_TEXT])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts`, retried through overloads and outages (bulk work)."""
        return self._encode(list(texts), _BULK_ATTEMPTS, query=False)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector, or EncoderUnavailable at once: searches never wait out a
        failing server (they answer lexically instead)."""
        return self._encode([text], _QUERY_ATTEMPTS, query=True)[0]

    # -- calls -------------------------------------------------------------------------------------

    def _encode(self, texts: list[str], attempts: int, *, query: bool) -> np.ndarray:
        self._check_usable(query)
        pause_cap = _QUERY_PAUSE_S if query else None
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        size = self._batch_size
        batches = [texts[start : start + size] for start in range(0, len(texts), size)]
        abort = threading.Event()

        def run(batch: list[str]) -> np.ndarray:
            return self._post_split(batch, attempts, pause_cap, abort)

        try:
            if query:  # on the caller's thread: never queued behind background batches
                parts = [run(batch) for batch in batches]
            else:  # the pool bounds all background requests together to max_concurrency
                parts = self._in_parallel(run, batches, abort)
        except EncoderUnavailable:
            self._gave_up()
            raise
        except ProviderError as exc:  # remembered: the server is not asked again in vain
            self._fatal = exc
            raise
        except _Aborted as exc:  # only when a sibling failed: its error is raised instead
            raise EncoderUnavailable(str(exc)) from exc
        vectors = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self._succeeded(vectors.shape[1])
        return vectors

    def _in_parallel(
        self,
        run: Callable[[list[str]], np.ndarray],
        batches: list[list[str]],
        abort: threading.Event,
    ) -> list[np.ndarray]:
        pool = self._workers()
        futures: list[Future[np.ndarray]] = [pool.submit(run, batch) for batch in batches]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            abort.set()  # siblings stop at their next attempt or pause
            for future in futures:
                future.cancel()
            wait(futures)
            error = failed.exception()
            assert error is not None
            raise error
        return [future.result() for future in futures]

    def _workers(self) -> ThreadPoolExecutor:
        with self._state:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(self.provider.max_concurrency, 1),
                    thread_name_prefix="embeddings-http",
                )
            return self._pool

    def _post_split(
        self, texts: list[str], attempts: int, pause_cap: float | None, abort: threading.Event
    ) -> np.ndarray:
        """Posts one batch; halves it for as long as the server says it has too many inputs.

        A single text the server finds too long is cut in half and sent again, as the local
        model truncates long input too.
        """
        try:
            return self._post_retrying(texts, attempts, pause_cap, abort)
        except _TooMany as exc:
            if len(texts) == 1:
                if len(texts[0]) <= _SHORTEST_CUT:
                    raise ProviderError(
                        f"{self.url} refuses even a short text as too large ({exc}): raise the "
                        "server's input limit or let it truncate (TEI: --auto-truncate)"
                    ) from exc
                return self._post_split(
                    [texts[0][: len(texts[0]) // 2]], attempts, pause_cap, abort
                )
            half = len(texts) // 2
            with self._state:
                if half < self._batch_size:
                    log.info("embedding server: %s; batches of %d from now on", exc, half)
                    self._batch_size = half
            first = self._post_split(texts[:half], attempts, pause_cap, abort)
            rest = self._post_split(texts[half:], attempts, pause_cap, abort)
            return np.concatenate([first, rest])

    def _post_retrying(
        self, texts: list[str], attempts: int, pause_cap: float | None, abort: threading.Event
    ) -> np.ndarray:
        for attempt in range(attempts):
            if abort.is_set():
                raise _Aborted("another request of the same round failed")
            try:
                return self._post(texts)
            except _Transient as exc:
                pause = random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempt))
                if exc.retry_after is not None:
                    pause = max(pause, min(exc.retry_after, _RETRY_AFTER_CAP_S))
                if pause_cap is not None:
                    pause = min(pause, pause_cap)
                problem = str(exc)
                self._note_trouble(problem, pause)
                if attempt + 1 == attempts:
                    break
                log.debug("embedding request failed (%s); retry in %.1f s", problem, pause)
                if abort.wait(pause):
                    raise _Aborted("another request of the same round failed") from exc
        raise EncoderUnavailable(
            f"the embedding server at {self.url} is unavailable ({self._last_problem}) "
            f"after {attempts} attempts"
        )

    def _post(self, texts: list[str]) -> np.ndarray:
        """One request and its answer; raises _Transient, _TooMany or ProviderError."""
        payload: dict[str, Any] = {
            "model": self.provider.model,
            # OpenAI refuses empty strings; a space embeds as (nearly) nothing.
            "input": [text if text else " " for text in texts],
            "encoding_format": "float",
        }
        if self.provider.dimensions:
            payload["dimensions"] = self.provider.dimensions
        status, headers, body = self._exchange(json.dumps(payload).encode("utf-8"))
        if status == 200:
            return self._vectors(body, len(texts))
        message = _server_message(body)
        if status in _RETRY_STATUS:
            raise _Transient(f"HTTP {status} {message}".strip(), _retry_after(headers))
        if status == 413 or (
            status in (400, 422) and any(phrase in message.lower() for phrase in _TOO_MANY)
        ):
            raise _TooMany(f"HTTP {status}: {message}")
        raise self._refused(status, message)

    def _exchange(self, body: bytes) -> tuple[int, http.client.HTTPMessage, bytes]:
        """POSTs on this thread's keep-alive connection; a stale one is replaced once."""
        for fresh in (False, True):
            connection, reused = self._connection(fresh)
            try:
                connection.request("POST", self._path(), body=body, headers=self._headers())
                response = connection.getresponse()
                data = response.read()
                if response.will_close:
                    self._drop_connection()
                return response.status, response.headers, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop_connection()
                if reused and not fresh:
                    continue  # the server closed an idle keep-alive connection: not an outage
                raise _Transient(_describe(exc)) from exc
            except (OSError, http.client.HTTPException) as exc:  # refused, timeout, DNS...
                self._drop_connection()
                raise _Transient(_describe(exc)) from exc
        raise AssertionError("unreachable")

    def _connection(self, fresh: bool) -> tuple[http.client.HTTPConnection, bool]:
        connection = getattr(self._local, "connection", None)
        if connection is not None and not fresh:
            return connection, True
        self._drop_connection()
        host, port = self._endpoint.hostname or "", self._endpoint.port
        if self._endpoint.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=self._timeout_s)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._timeout_s)
        self._local.connection = connection
        return connection, False

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def _path(self) -> str:
        query = f"?{self._endpoint.query}" if self._endpoint.query else ""
        return (self._endpoint.path or "/") + query

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"nearcode/{__version__}",
        }
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _api_key(self) -> str:
        name = self.provider.api_key_env
        if not name:
            return ""
        key = os.environ.get(name, "")
        if not key:
            raise ProviderError(
                f"the environment variable {name} (named by the embeddings apiKeyEnv setting) "
                "is not set: export the API key in it before starting nearcode"
            )
        return key

    # -- answers -----------------------------------------------------------------------------------

    def _vectors(self, body: bytes, count: int) -> np.ndarray:
        try:
            data = json.loads(body)["data"]
            rows = sorted(data, key=lambda item: item.get("index", 0))
            matrix = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProviderError(
                f"{self.url} did not answer like an OpenAI-compatible embeddings endpoint "
                f"({_describe(exc)}): check the url"
            ) from exc
        if matrix.ndim != 2 or matrix.shape[0] != count:
            raise ProviderError(f"{self.url} returned {matrix.shape[0]} vectors for {count} texts")
        self._check_dimension(matrix.shape[1])
        # Cosine search wants unit vectors; not every server normalises.
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.ascontiguousarray(matrix / np.where(norms > 0, norms, 1), dtype=np.float32)

    def _check_dimension(self, found: int) -> None:
        wanted = self.provider.dimensions
        if wanted and found != wanted:
            raise ProviderError(
                f"{self.url} returned {found}-dimensional vectors, but the embeddings "
                f"dimensions setting asks for {wanted}: the server or model ignores it; set "
                f"dimensions to {found} or remove it"
            )
        if self._dim is not None and found != self._dim:
            raise ProviderError(
                f"{self.url} returned {found}-dimensional vectors after {self._dim}-dimensional "
                f"ones: model {self.provider.model!r} changed on the server; set dimensions, "
                "or run `nearcode clean` and index again"
            )

    def _refused(self, status: int, message: str) -> ProviderError:
        detail = f" ({message})" if message else ""
        if status in (401, 403):
            name = self.provider.api_key_env
            fix = (
                f"check the API key in the environment variable {name}"
                if name
                else "set the embeddings apiKeyEnv setting to the name of the environment "
                "variable that holds the API key"
            )
            return ProviderError(f"{self.url} refused the request: HTTP {status}{detail}; {fix}")
        if status == 404:
            return ProviderError(
                f"{endpoint_of(self.url)} answered HTTP 404{detail}: check the url (the base "
                f"URL of the API, usually ending in /v1) and the model name "
                f"{self.provider.model!r}"
            )
        return ProviderError(f"{self.url} refused the request: HTTP {status}{detail}")

    # -- health --------------------------------------------------------------------------------

    def _check_usable(self, query: bool) -> None:
        """Raises instead of calling a server known to be down (queries: one that is failing
        right now; bulk work: one that recently failed a whole round)."""
        if self._fatal is not None:
            raise self._fatal
        remaining = self._retry_at - time.monotonic()
        if remaining > 0 and (query or self._failures):
            raise EncoderUnavailable(
                f"the embedding server at {self.url} is unavailable ({self._last_problem}); "
                f"next try in {remaining:.0f} s"
            )

    def _note_trouble(self, problem: str, pause: float) -> None:
        with self._state:
            self._last_problem = problem
            self._retry_at = max(self._retry_at, time.monotonic() + pause)

    def _gave_up(self) -> None:
        with self._state:
            self._failures += 1
            cool_down = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**self._failures)
            self._retry_at = max(self._retry_at, time.monotonic() + random.uniform(0, cool_down))

    def _succeeded(self, dim: int) -> None:
        with self._state:
            if self._dim is None:
                self._dim = dim
                log.info(
                    "embedding server %s: model %s, %d dims", self.url, self.provider.model, dim
                )
            if self._failures or self._last_problem:
                log.info("embedding server %s answers again", self.url)
            self._ready = True
            self._failures = 0
            self._retry_at = 0.0
            self._last_problem = ""


def _retry_after(headers: http.client.HTTPMessage) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _server_message(body: bytes) -> str:
    """The error text of an answer ({"error": {"message"}}, {"detail"}, {"error": "..."})."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message", "")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if isinstance(error, list) and error and isinstance(error[0], dict):
            error = error[0].get("msg", error[0])
        text = str(error)
    return text[:200]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__
