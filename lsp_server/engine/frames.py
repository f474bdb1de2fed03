"""Stack traces and compiler errors in a selection: the file/line locations they name."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    path: str  # as written in the trace: absolute, relative, or a bare file name
    line: int  # 1-based, as every trace format writes it
    function: str = ""


# Each pattern captures path and line (and maybe function). Order matters only for speed.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Python:  File "/app/http/client.py", line 42, in fetch
    ("python", re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>\S+))?')),
    # Node/V8:  at fetch (/app/src/client.js:42:13)   |   at /app/src/client.js:42:13
    (
        "js",
        re.compile(
            r"\bat (?:(?P<func>[^\s(]+) \()?(?:file://)?(?P<path>[^\s():]+?)"
            r":(?P<line>\d+)(?::\d+)?\)?\s*$",
            re.M,
        ),
    ),
    # Java/Kotlin/C#:  at com.acme.Client.fetch(Client.java:42)
    ("java", re.compile(r"\bat (?P<func>[\w$.<>]+)\((?P<path>[\w$-]+\.\w+):(?P<line>\d+)\)")),
    # Rust:  --> src/main.rs:42:13
    ("rust", re.compile(r"-->\s+(?P<path>[^\s:]+):(?P<line>\d+)(?::\d+)?")),
    # TypeScript (tsc):  src/app.ts(42,13): error TS2322
    ("tsc", re.compile(r"^(?P<path>[^\s()]+\.\w+)\((?P<line>\d+),\d+\)", re.M)),
    # gcc/clang/go/eslint/mypy:  src/app.c:42:13: error: ...   |   app/x.py:42: error
    ("compiler", re.compile(r"^\s*(?P<path>[^\s:]+\.\w+):(?P<line>\d+)(?::\d+)?:", re.M)),
    # Go panics:  \t/app/server.go:42 +0x1d
    ("go", re.compile(r"^\s+(?P<path>/[^\s:]+\.go):(?P<line>\d+)", re.M)),
    # Swift's runtime traps:  Fatal error: Index out of range: file App/Cart.swift, line 42
    ("swift", re.compile(r"\bfile (?P<path>[^\s,]+\.swift), line (?P<line>\d+)")),
    # Swift crash reports (Xcode, symbolicated):
    #   3   App   0x0000000104a8 Cart.total(for:) + 120 (Cart.swift:42)
    (
        "swift-crash",
        re.compile(
            r"0x[0-9a-f]+ (?P<func>[^\s(]+)(?:\([^)]*\))? \+ \d+ \((?P<path>[\w$-]+\.swift)"
            r":(?P<line>\d+)\)"
        ),
    ),
)

# Python prints the innermost frame last; the others print it first.
_INNERMOST_LAST = {"python"}


def parse_frames(text: str) -> list[Frame]:
    """Locations named in `text`, innermost (most specific) first, without repeats."""
    frames: list[Frame] = []
    seen: set[tuple[str, int]] = set()
    for style, pattern in _PATTERNS:
        found = [
            Frame(m.group("path"), int(m.group("line")), (m.groupdict().get("func") or "").strip())
            for m in pattern.finditer(text)
        ]
        if style in _INNERMOST_LAST:
            found.reverse()
        for frame in found:
            if (frame.path, frame.line) not in seen and frame.line > 0:
                seen.add((frame.path, frame.line))
                frames.append(frame)
    return frames
