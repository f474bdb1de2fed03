"""Lines, character offsets and windows of lines: the text side of chunking, and a span of
text made a chunk."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from ..chunks import Chunk

_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as an LSP client counts them.

    Unlike str.splitlines(), form feeds, U+2028 and friends are not line breaks: a file
    with them would otherwise be off by a line or more from the editor's view.
    """
    return _NEWLINE.split(text)


def slice_lines(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> list[str]:
    """The lines of an LSP range (start and end as (line, character)); an end past the last
    line is clamped to it."""
    end_line = min(end[0], len(lines) - 1)
    picked = lines[start[0] : end_line + 1]
    if end_line == end[0]:
        picked[-1] = picked[-1][: end[1]]
    picked[0] = picked[0][start[1] :]
    return picked


class Lines:
    """Line starts/ends of a text (LSP rule) and conversion of char offsets to positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.ends: list[int] = []  # offset just past each line's content, before its newline
        if "\r" not in text:  # the common case, about 5x faster than the regex
            lengths = [len(line) for line in text.split("\n")]
            self.starts = list(accumulate((n + 1 for n in lengths[:-1]), initial=0))
            self.ends = [s + n for s, n in zip(self.starts, lengths, strict=True)]
            return
        for m in _NEWLINE.finditer(text):
            self.ends.append(m.start())
            self.starts.append(m.end())
        self.ends.append(len(text))

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def position(self, offset: int) -> tuple[int, int]:
        line = self.line_of(offset)
        return line, offset - self.starts[line]

    def segments(self, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
        """The lines of [start, end) as (start, end) offsets; over-long lines are hard-cut."""
        segs: list[tuple[int, int]] = []
        for line in range(self.line_of(start), self.line_of(max(start, end - 1)) + 1):
            s, e = max(start, self.starts[line]), min(end, self.ends[line])
            if e - s <= max_chars:
                segs.append((s, max(s, e)))
            else:
                segs.extend((k, min(k + max_chars, e)) for k in range(s, e, max_chars))
        return segs


def byte_to_char(data: bytes, offsets: set[int]) -> dict[int, int]:
    """Map UTF-8 byte offsets to str offsets, decoding each stretch between them only once."""
    result: dict[int, int] = {}
    prev_byte = prev_char = 0
    for b in sorted(offsets):
        snapped = b
        while snapped < len(data) and 0x80 <= data[snapped] < 0xC0:
            snapped += 1  # never split a character: move to the next one's first byte
        prev_char += len(data[prev_byte:snapped].decode("utf-8", "surrogatepass"))
        prev_byte = snapped
        result[b] = prev_char
    return result


# ---------------------------------------------------------------------------------------------
# Packing lines into chunks
# ---------------------------------------------------------------------------------------------


def pack(
    text: str,
    segs: list[tuple[int, int]],
    max_chars: int,
    max_lines: int,
    overlap: int,
    breaks: list[int] | None = None,
) -> Iterator[tuple[int, int]]:
    """Yield trimmed (start, end) char spans of consecutive segments, skipping blank ones.

    ``breaks``: sorted indexes of the segments a statement starts on. A window that must end
    before its limit then ends before the last of them it holds, so that the next window
    starts on a statement rather than inside one; without one it ends at the limit.
    """
    i, n = 0, len(segs)
    while i < n:
        while i < n and _blank(text, segs[i]):
            i += 1  # never start a window on a blank line
        if i == n:
            return
        j, start = i, segs[i][0]
        while j + 1 < n and j + 1 - i < max_lines and segs[j + 1][1] - start <= max_chars:
            j += 1
        if breaks and j + 1 < n and not _holds(breaks, j + 1):
            last = bisect_right(breaks, j) - 1
            if last >= 0 and breaks[last] > i:
                j = breaks[last] - 1
        span = trim(text, start, segs[j][1])
        if span is not None:
            yield span
        if j == n - 1:
            return
        i = max(i + 1, j + 1 - overlap)


def _holds(ordered: list[int], value: int) -> bool:
    at = bisect_left(ordered, value)
    return at < len(ordered) and ordered[at] == value


def _blank(text: str, seg: tuple[int, int]) -> bool:
    s, e = seg
    return s == e or text[s:e].isspace()


def trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Shrink [start, end) to its first and last non-whitespace characters."""
    chunk = text[start:end]
    stripped = chunk.lstrip()
    if not stripped:
        return None
    start += len(chunk) - len(stripped)
    return start, start + len(stripped.rstrip())


def char_column(data: bytes, offset: int) -> int:
    """The column, in characters, of a byte offset (tree-sitter's columns are bytes)."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return len(data[line_start:offset].decode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class Opts:
    path: str
    language: str
    max_chars: int
    overlap_lines: int
    window_lines: int


def make_chunk(
    lines: Lines,
    opts: Opts,
    start: int,
    end: int,
    kind: str,
    symbol: str,
    signature: str,
    container: str,
    part: int,
    unit: tuple[int, int] | None = None,
) -> Chunk:
    sl, sc = lines.position(start)
    el, ec = lines.position(end)
    return Chunk(
        path=opts.path,
        language=opts.language,
        kind=kind,
        symbol=symbol,
        start_line=sl,
        start_col=sc,
        end_line=el,
        end_col=ec,
        text=lines.text[start:end],
        signature=signature,
        container=container,
        part=part,
        # Whole definitions leave the unit at -1: Chunk makes it the chunk's own lines.
        unit_start_line=unit[0] if unit else -1,
        unit_end_line=unit[1] if unit else -1,
    )
