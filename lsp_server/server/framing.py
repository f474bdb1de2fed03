"""JSON-RPC framing over stdio with limits: the server's input comes from a peer it must not
trust to be well-behaved (a buggy client, a fuzzer, anything that can write to the pipe).

pygls' own reader (2.1) reads a body as headers after a Content-Length it cannot parse, so
every later request is lost; allocates whatever Content-Length says (`MemoryError` for 1 TB);
and drops a body that is not JSON, or not a JSON-RPC request, without an answer. This reader:

- takes header names in any case and ends the headers at an empty line (CRLF, or LF);
- closes the connection, after a log line and a message to the client, when the stream
  cannot be followed any more: a header line over ``MAX_HEADER_LINE`` bytes, more than
  ``MAX_HEADERS`` headers, a missing or malformed Content-Length, or one over
  ``MAX_MESSAGE_BYTES`` (nothing that large is allocated or read);
- answers a body that is not JSON with ParseError (-32700), and a message that is not a
  JSON-RPC 2.0 request, notification or response (not an object, a batch, an id that is not
  an integer or a string, "jsonrpc" other than "2.0", a request without a method) with
  InvalidRequest (-32600), as JSON-RPC 2.0 asks; id null where the id is unknown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import Executor
from typing import Any, BinaryIO, Protocol

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 << 20  # more than any sane message: didOpen of a 50 MB file fits
MAX_HEADER_LINE = 8 << 10
MAX_HEADERS = 32
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


class FramingError(Exception):
    """The input stream cannot be followed any more; ``str(err)`` says why."""


class Peer(Protocol):
    """What the reader needs from the JSON-RPC protocol object."""

    def structure_message(self, data: dict[str, Any]) -> Any: ...

    def handle_message(self, message: Any) -> None: ...

    def send_error(self, msg_id: Any, code: int, message: str) -> None: ...


class StdinReader:
    """Blocking reads of a binary stream, run in a thread so the event loop stays free."""

    def __init__(self, stream: BinaryIO, executor: Executor | None = None) -> None:
        self._stream = stream
        self._executor = executor

    async def readline(self, limit: int) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._stream.readline, limit)

    async def read(self, size: int) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._stream.read, size)


async def serve(reader: StdinReader, peer: Peer, stop: threading.Event) -> str | None:
    """Feeds messages to ``peer`` until the input ends (None) or cannot be followed (why)."""
    while not stop.is_set():
        try:
            length = await _read_headers(reader)
        except FramingError as exc:
            return str(exc)
        if length is None:
            return None
        body = await reader.read(length)
        if len(body) < length:
            return None  # the client went away mid-message
        dispatch(body, peer)
    return None


async def _read_headers(reader: StdinReader) -> int | None:
    """The Content-Length of the next message; None at the end of the input."""
    length: int | None = None
    for _ in range(MAX_HEADERS + 1):
        line = await reader.readline(MAX_HEADER_LINE + 1)
        if not line:
            return None
        if not line.endswith(b"\n"):
            raise FramingError(f"a header line longer than {MAX_HEADER_LINE} bytes")
        line = line.rstrip(b"\r\n")
        if not line:
            if length is None:
                raise FramingError("a message without a Content-Length header")
            return length
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-length":
            length = _content_length(value.strip())
    raise FramingError(f"more than {MAX_HEADERS} header lines in one message")


def _content_length(raw: bytes) -> int:
    shown = raw[:40].decode("ascii", "replace")
    if not raw.isdigit():
        raise FramingError(f"a Content-Length that is not a number ({shown!r})")
    if len(raw) > 20 or int(raw) > MAX_MESSAGE_BYTES:  # nothing of that size is read
        raise FramingError(
            f"a message of {shown} bytes, over the {MAX_MESSAGE_BYTES >> 20} MiB limit"
        )
    return int(raw)


def dispatch(body: bytes, peer: Peer) -> None:
    """Parses one message body and hands it to the protocol, answering what it cannot."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        log.warning("unreadable message (%d bytes) answered with an error: %s", len(body), exc)
        peer.send_error(None, PARSE_ERROR, "Parse error: the message is not valid JSON")
        return
    problem = envelope_problem(message)
    if problem is not None:
        msg_id, reason = problem
        log.warning("invalid message: %s", reason)
        if msg_id is not _NO_ANSWER:
            peer.send_error(msg_id, INVALID_REQUEST, f"Invalid request: {reason}")
        return
    try:
        peer.handle_message(peer.structure_message(message))
    except Exception:  # noqa: BLE001 - one bad message must not end the server
        log.exception("message %s could not be handled", str(message.get("method"))[:100])


_NO_ANSWER = object()  # a notification or a response: nobody waits for an answer


def _valid_id(value: Any) -> bool:
    return value is None or isinstance(value, str) or type(value) is int


def envelope_problem(message: Any) -> tuple[Any, str] | None:
    """(id to answer, or _NO_ANSWER; why) for a message that is not valid JSON-RPC 2.0."""
    if not isinstance(message, dict):
        return None, "a message must be a JSON object (batches are not supported)"
    has_id = "id" in message
    msg_id = message.get("id")
    if has_id and not _valid_id(msg_id):  # a fractional number can still be echoed back
        echo = msg_id if type(msg_id) is float else None
        return echo, "the id must be an integer or a string"
    answer_to = msg_id if has_id else _NO_ANSWER
    if message.get("jsonrpc") != "2.0":
        return answer_to, 'the "jsonrpc" member must be "2.0"'
    if "method" in message:
        if not isinstance(message["method"], str):
            return answer_to, "the method must be a string"
        return None
    if has_id and ("result" in message or "error" in message):
        return None  # a response to one of our requests
    return answer_to, "a request needs a method"
