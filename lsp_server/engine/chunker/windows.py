"""Line windows, for files without a grammar; Markdown by its sections."""

from __future__ import annotations

import re

from ..chunks import Chunk
from .lines import Lines, Opts, make_chunk, pack

_FENCE = re.compile(r" {0,3}(```|~~~)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+(.*?))?[ \t#]*$")


def line_windows(lines: Lines, opts: Opts) -> list[Chunk]:
    sections = _markdown_sections(lines) if opts.language == "markdown" else None
    if sections is None:
        sections = [(0, len(lines.text), "")]
    return [
        chunk
        for start, end, heading in sections
        for chunk in windows_between(lines, opts, start, end, heading)
    ]


def windows_between(lines: Lines, opts: Opts, start: int, end: int, symbol: str) -> list[Chunk]:
    """The text of [start, end) (char offsets) as windows of lines, each named ``symbol``."""
    segs = lines.segments(start, end, opts.max_chars)
    return [
        make_chunk(lines, opts, s, e, "window", symbol, "", "", 0)
        for s, e in pack(lines.text, segs, opts.max_chars, opts.window_lines, opts.overlap_lines)
    ]


def _markdown_sections(lines: Lines) -> list[tuple[int, int, str]]:
    """(start, end, heading) char spans, a new one at each ATX heading outside code fences."""
    text, bounds = lines.text, [(0, "")]
    fence = ""
    for line, (s, e) in enumerate(zip(lines.starts, lines.ends, strict=True)):
        content = text[s:e]
        m = _FENCE.match(content)
        if m:
            fence = "" if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence or not content.lstrip().startswith("#"):
            continue
        h = _HEADING.match(content)
        if h and line > 0:
            bounds.append((s, (h.group(1) or "").strip()))
        elif h:
            bounds[0] = (0, (h.group(1) or "").strip())
    ends = [b[0] for b in bounds[1:]] + [len(text)]
    return [(s, e, heading) for (s, heading), e in zip(bounds, ends, strict=True)]
