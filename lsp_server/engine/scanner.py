"""Find the files of one workspace folder that are worth indexing.

Ignore rules follow git: ``.gitignore`` at every level, ``.git/info/exclude``, plus the
user's exclude globs and a list of vendored/generated folders (``DEFAULT_EXCLUDES``).
Precedence, lowest to highest: defaults, ``.git/info/exclude``, ``.gitignore`` files from
the root down, user excludes. The last rule that matches wins, so a ``!`` in a
``.gitignore`` or in the user excludes can re-include a default-excluded folder. Once a
directory is excluded nothing below it is looked at, so a negation cannot re-include a file
inside it (git semantics). Any folder other than the root that holds a ``pyvenv.cfg`` is a
virtualenv and is skipped unless a ``!`` rule names it. The global git excludes file
(``core.excludesFile``) is not read: it is per-user, not per-project.

Symlinks are followed only when their target lies inside the workspace. Real paths are
walked first and symlinks afterwards, so a file reachable both ways is indexed once, under
its real path.

The repository is untrusted: ignore files are read only when they are regular files inside
the workspace (not through a symlink, which git does not follow either), at most
``IGNORE_FILE_LIMIT`` bytes; a ``.git`` file's ``gitdir:`` is followed only inside the
workspace. Patterns are matched by RE2 in linear time. What was not read or was dropped is
reported as a SkippedFile of the ignore file.
"""

from __future__ import annotations

import codecs
import errno
import logging
import os
import re
import stat
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EXCLUDES",
    "DEFAULT_MAX_FILE_SIZE",
    "IgnoreRules",
    "LinguistAttributes",
    "ScannedFile",
    "Scanner",
    "SkippedFile",
    "SourceError",
    "is_minified",
    "minified_reason",
    "read_source",
]

DEFAULT_MAX_FILE_SIZE = 1 << 20
HEAD_SIZE = 8192  # bytes sniffed for binary detection
# A file this large whose lines average this long is minified: a bundle, a compiled
# stylesheet (Carbon's `css/all.css`: one line of 755,641 characters), one-line data. Cut in
# windows of selectors or mangled names it answers no question and is like no code, and
# Carbon's six such stylesheets made 63% of its chunks: it is not indexed, as `*.min.js` is
# not, unless a `!` rule names it (the chunker then cuts it in line windows, unparsed).
MINIFIED_MIN_CHARS = 100_000
MINIFIED_LINE_CHARS = 1_000

# Vendored, generated and tool folders: never what someone searching their code wants.
# Unanchored, so they apply at any depth (monorepos have many dist/ and node_modules/).
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    "node_modules/",
    "bower_components/",
    ".venv/",
    "venv/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".tox/",
    ".nox/",
    ".eggs/",
    "*.egg-info/",
    "dist/",
    "build/",
    "target/",
    ".gradle/",
    ".next/",
    ".nuxt/",
    ".svelte-kit/",
    "coverage/",
    ".idea/",
    "vendor/",
    "*.min.js",
    "*.min.css",
    "*.map",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "Gemfile.lock",
    "composer.lock",
    "go.sum",
)

Detect = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class ScannedFile:
    path: str  # workspace-relative, '/'-separated
    abs_path: Path  # root / path (through symlinks, if the path has any)
    size: int
    mtime_ns: int
    language: str
    ino: int = 0
    ctime_ns: int = 0
    forced: bool = False  # re-included by a "!" rule that names it: indexed even if minified


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file (or directory) a user would expect to be indexed, and why it is not."""

    path: str
    reason: str


class SourceError(Exception):
    """A file cannot be indexed; ``str(err)`` is a short reason fit for a SkippedFile.

    OS errors are chained (``err.__cause__``): a FileNotFoundError there means the file
    is gone.
    """


# --------------------------------------------------------------------------- reading


def is_minified(text: str) -> bool:
    """Whether a file's text is minified (MINIFIED_MIN_CHARS, MINIFIED_LINE_CHARS). Its lines
    are counted only past the size, which few files reach: every read and save asks."""
    return len(text) > MINIFIED_MIN_CHARS and len(text) > MINIFIED_LINE_CHARS * (
        text.count("\n") + 1
    )


def minified_reason(path: str, text: str) -> str | None:
    """Why a file's text is not indexed when it is minified, with the rule that indexes it
    after all; None when it is not minified."""
    if not is_minified(text):
        return None
    lines = text.count("\n") + 1
    shape = (
        f"1 line of {len(text):,} characters"
        if lines == 1
        else f"{lines:,} lines of {len(text) // lines:,} characters on average"
    )
    return f"minified ({shape}); an exclude pattern !{path} indexes it"


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    # a FIFO swapped in after listing must not block the scan
    | getattr(os, "O_NONBLOCK", 0)
)

# Control characters other than common whitespace (and ESC, for ANSI art); bytes >= 0x80
# count as text so that Latin-1/cp1252 files are not called binary.
_TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r\f\b\x1b" + bytes(range(0x80, 0x100))

# BOMs of UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _bom(data: bytes) -> tuple[int, str] | None:
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            return len(mark), encoding
    return None


def _is_binary(head: bytes) -> bool:
    """NUL byte, or not UTF-8 and more than 30% control bytes."""
    if head.isascii():
        return b"\0" in head
    if _bom(head) is not None:
        return False  # UTF-16/32 text has NULs, but says what it is
    if b"\0" in head:
        return True
    try:
        # incremental: a character cut in two at the end of the head is fine
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return False
    except UnicodeDecodeError:
        pass
    return len(head.translate(None, _TEXT_BYTES)) * 10 > len(head) * 3


def _format_size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} B"


def _too_large(size: int, limit: int) -> str:
    shown, cap = _format_size(size), _format_size(limit)
    if shown == cap:  # 1 MiB + 1 byte must not read "1 MiB > 1 MiB"
        shown, cap = f"{size} B", f"{limit} B"
    return f"too large ({shown} > {cap} limit)"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "unreadable: permission denied"
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    text = exc.strerror or type(exc).__name__
    return f"unreadable: {text[:1].lower()}{text[1:]}"


def _decode(data: bytes) -> str:
    bom = _bom(data)
    if bom is not None:
        skip, encoding = bom
        return data[skip:].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # U+FFFD per bad byte: line/column structure stays intact, and it is what editors
        # that assume UTF-8 (VS Code's default) show for the same file.
        return data.decode("utf-8", errors="replace")


def read_source(abs_path: Path | str, max_size: int = DEFAULT_MAX_FILE_SIZE) -> str:
    """The text of a source file: BOM stripped, UTF-8 (UTF-16/32 when a BOM says so).

    Invalid UTF-8 is decoded with U+FFFD replacement characters, never an error.
    Raises SourceError for binary, too large, non-regular or unreadable files.
    """
    try:
        fd = os.open(abs_path, _OPEN_FLAGS)
    except OSError as exc:
        raise SourceError(_os_reason(exc)) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("not a regular file")
        if st.st_size > max_size:
            raise SourceError(_too_large(st.st_size, max_size))
        data = _read_up_to(fd, max_size + 1)
    except OSError as exc:
        raise SourceError(_os_reason(exc)) from exc
    finally:
        os.close(fd)
    if len(data) > max_size:  # grew since fstat
        raise SourceError(_too_large(len(data), max_size))
    if _is_binary(data[:HEAD_SIZE]):
        raise SourceError("binary")
    return _decode(data)


def _read_up_to(fd: int, limit: int) -> bytes:
    parts: list[bytes] = []
    left = limit
    while left > 0:
        part = os.read(fd, min(left, 1 << 20))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


# ------------------------------------------------------------------------ ignore rules

# Ignore files come from the repository, so they are untrusted input: read only when they are
# regular files inside the workspace (never through a symlink, as git >= 2.32 does not follow
# them either; never a FIFO, device or socket), at most this many bytes.
IGNORE_FILE_LIMIT = 1 << 20
_IGNORE_OPEN_FLAGS = _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0)
# A pattern longer than any path, or a file of more patterns than any project needs, is a
# mistake or an attack: dropped with a warning (the automaton must fit in memory).
MAX_PATTERN_CHARS = 4096
MAX_PATTERNS_PER_FILE = 2_000  # re2 sets of ~3,000 simple patterns exceed its 8 MiB budget
# Without re2, patterns run on Python's backtracking regex engine, where k single-segment
# stars cost up to O(n^k) steps on a name of n characters (n <= 255): more are dropped.
MAX_STARS_WITHOUT_RE2 = 2

try:  # linear-time matching (RE2 automata): no pattern can stall the scan
    import re2

    _BACKEND = "re2"
except ImportError:  # pragma: no cover - google-re2 is a dependency; kept for odd platforms
    re2 = None
    _BACKEND = "simple"

Matcher = Callable[[str], object]  # truthy when some pattern matches at the start
_COMPILE_ERRORS: tuple[type[Exception], ...] = (re.error, ValueError)
if re2 is not None:
    _COMPILE_ERRORS += (re2.error,)


def _any_matcher(regexes: Sequence[str]) -> Matcher:
    """One "does any pattern match" test: most paths match none, and the specs check
    pattern by pattern (~5x slower for the defaults on the simple backend)."""
    if not regexes:
        return lambda _text: False
    if re2 is None:
        return re.compile("|".join(f"(?:{r})" for r in regexes)).match
    options = re2.Options()
    options.never_capture = True
    options.log_errors = False
    matcher = re2.Set.MatchSet(options)  # a thin wrapper: re2.compile().match is ~10x slower
    for regex in regexes:
        matcher.Add(regex)
    matcher.Compile()
    return matcher.Match


def _usable_regex(regex: str) -> bool:
    """Whether the matching engine accepts a pattern's regex (re2 lacks a few features)."""
    if re2 is None:
        return True
    try:
        re2.compile(regex)
    except re2.error:
        return False
    return True


def _dir_only(line: str) -> bool:
    return line.rstrip().endswith("/")


def _pattern_cost_problem(line: str) -> str | None:
    """Why a pattern is too costly to match, or None."""
    if len(line) > MAX_PATTERN_CHARS:
        return f"longer than {MAX_PATTERN_CHARS} characters"
    if re2 is None:
        stars = line.replace("**", "").count("*")
        if stars > MAX_STARS_WITHOUT_RE2:
            return f"{stars} wildcards, more than {MAX_STARS_WITHOUT_RE2} without re2"
    return None


class _Layer:
    """The patterns of one ignore file, relative to ``prefix`` ('' or 'a/b/').

    Directories are matched as git does: dir-only patterns (``x/``) against 'x/', all
    others against 'x'. pathspec would let ``docs/**`` match the directory 'docs/' itself,
    which git does not (``docs/**`` + ``!docs/keep.md`` keeps docs/keep.md).
    """

    __slots__ = ("prefix", "any", "files", "plain", "plain_pos", "slash", "slash_pos", "dropped")

    def __init__(self, prefix: str, lines: Sequence[str]) -> None:
        patterns: list[GitIgnoreSpecPattern] = []
        dir_only: list[bool] = []
        self.dropped: list[tuple[str, str]] = []  # (pattern, why)
        for line in lines:
            if len(patterns) >= MAX_PATTERNS_PER_FILE:
                self.dropped.append((line, f"more than {MAX_PATTERNS_PER_FILE} patterns"))
                break
            problem = _pattern_cost_problem(line)
            if problem is not None:
                self.dropped.append((line, problem))
                continue
            try:
                pattern = GitIgnoreSpecPattern(line)
            except (ValueError, re.error):
                continue  # git skips bad patterns too; one must not void the file
            if pattern.include is None or pattern.regex is None:
                continue  # a comment or a blank line
            if not _usable_regex(pattern.regex.pattern):
                self.dropped.append((line, "not supported by the matcher"))
                continue
            patterns.append(pattern)
            dir_only.append(_dir_only(line))
        self.prefix = prefix
        self.any = _any_matcher(
            [p.regex.pattern.replace("(?P<ps_d>", "(?:") for p in patterns if p.regex]
        )
        self.files = GitIgnoreSpec(patterns, backend=_BACKEND)
        self.plain_pos = [i for i, d in enumerate(dir_only) if not d]
        self.slash_pos = [i for i, d in enumerate(dir_only) if d]
        self.plain = GitIgnoreSpec([patterns[i] for i in self.plain_pos], backend=_BACKEND)
        self.slash = GitIgnoreSpec([patterns[i] for i in self.slash_pos], backend=_BACKEND)

    def decide(self, rel: str, is_dir: bool) -> bool | None:
        """True: excluded, False: re-included by a negation, None: no rule matches."""
        sub = rel[len(self.prefix) :]
        if not is_dir:
            if not self.any(sub):
                return None
            return self.files.check_file(sub).include
        if not self.any(sub) and not self.any(sub + "/"):
            return None
        best, include = -1, None
        if self.plain_pos:
            hit = self.plain.check_file(sub)
            if hit.index is not None:
                best, include = self.plain_pos[hit.index], hit.include
        if self.slash_pos:
            hit = self.slash.check_file(sub + "/")
            if hit.index is not None and self.slash_pos[hit.index] > best:
                include = hit.include
        return include


Layers = tuple[_Layer, ...]


def _read_untrusted(path: str, inside: Callable[[str], bool]) -> tuple[str | None, str]:
    """The text of an ignore file, or (None, why it was not read; "" when it is absent).

    lstat first, so a FIFO or device is never opened; then O_NOFOLLOW | O_NONBLOCK and a
    second check on the open file, so nothing swapped in meanwhile is read either.
    """
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None, _not_regular(path)
        if not inside(os.path.realpath(path)):
            return None, "outside the workspace: not read"
        fd = os.open(path, _IGNORE_OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None, ""
    except OSError as exc:
        return None, _os_reason(exc)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, "not a regular file: not read"
        data = _read_up_to(fd, IGNORE_FILE_LIMIT + 1)
    except OSError as exc:
        return None, _os_reason(exc)
    finally:
        os.close(fd)
    text = data[:IGNORE_FILE_LIMIT].decode("utf-8", errors="replace")
    if len(data) > IGNORE_FILE_LIMIT:  # the last line may be cut: drop it
        limit = _format_size(IGNORE_FILE_LIMIT)
        return text.rpartition("\n")[0], f"larger than {limit}: only the first {limit} read"
    return text, ""


def _not_regular(path: str) -> str:
    if os.path.islink(path):
        return "symlink: not followed (git does not follow it either)"
    return "not a regular file: not read"


class IgnoreRules:
    """Which workspace paths to leave out; see the module docstring for the rules.

    Ignore files are re-read when their mtime/size/inode change, so one instance can
    serve a long-running server. Ignore files that were not (fully) read and patterns that
    were dropped are listed in ``problems`` (workspace-relative path -> reason).
    """

    def __init__(
        self, root: Path | str, exclude: Sequence[str] = (), *, use_defaults: bool = True
    ) -> None:
        self.root = os.path.abspath(root)
        self._root_real = os.path.realpath(self.root)
        self._defaults = _Layer("", DEFAULT_EXCLUDES) if use_defaults else None
        self._user, problem = _layer("", exclude)
        if problem:
            log.warning("exclude setting: %s", problem)
        self._cache: dict[str, tuple[tuple[int, int, int], _Layer | None, str]] = {}
        self.problems: dict[str, str] = {}

    def is_ignored(self, rel_path: str, is_dir: bool) -> bool:
        """Whether a path is excluded by the rules of it or of any parent directory."""
        return self.decision(rel_path, is_dir) is True

    def decision(self, rel_path: str, is_dir: bool) -> bool | None:
        """True: the path is excluded (by its rules or a parent directory's); False: a "!"
        rule names it and re-includes it; None: no rule matches it."""
        parts = [p for p in rel_path.replace(os.sep, "/").split("/") if p not in ("", ".")]
        layers = self._child_layers(self._base_layers(), "", None)
        prefix = ""
        decision = None
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            rel = prefix + part
            part_is_dir = is_dir or not last
            decision = self._decide(layers, rel, part_is_dir)
            if decision or (part_is_dir and decision is None and self._is_venv(rel)):
                return True
            prefix = rel + "/"
            if not last:
                layers = self._child_layers(layers, prefix, None)
        return decision

    def inside(self, real: str) -> bool:
        """Whether a real (symlink-free) path lies in the workspace."""
        return real == self._root_real or real.startswith(self._root_real + os.sep)

    # -- used by the Scanner, which tracks the layers of each directory as it walks

    def _base_layers(self) -> Layers:
        path = self._info_exclude_path()
        info = None if path is None else self._load(path, "")
        return tuple(layer for layer in (self._defaults, info) if layer is not None)

    def _child_layers(self, layers: Layers, prefix: str, has_gitignore: bool | None) -> Layers:
        """Layers for the entries of directory ``prefix``, given its parent's."""
        if has_gitignore is False:
            return layers
        layer = self._load(os.path.join(self.root, prefix, ".gitignore"), prefix)
        return layers if layer is None else (*layers, layer)

    def _decide(self, layers: Layers, rel: str, is_dir: bool) -> bool | None:
        if "\n" in rel:  # pathspec's regexes neither cross nor end at a newline
            rel = rel.replace("\n", "\0")
        if not rel.isascii():  # re2 matches UTF-8: names that were not UTF-8 on disk
            rel = _printable(rel)
        if self._user is not None:
            decision = self._user.decide(rel, is_dir)
            if decision is not None:
                return decision
        for layer in reversed(layers):  # deepest file wins
            decision = layer.decide(rel, is_dir)
            if decision is not None:
                return decision
        return None

    def _is_venv(self, rel_dir: str) -> bool:
        return os.path.isfile(os.path.join(self.root, rel_dir, "pyvenv.cfg"))

    def _relative(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def _info_exclude_path(self) -> str | None:
        return self._git_info_path("exclude")

    def _git_info_path(self, name: str) -> str | None:
        """`.git/info/<name>` of the repository at the root (a worktree's or submodule's
        `gitdir:` followed only inside the workspace); None where there is no `.git`."""
        dot_git = os.path.join(self.root, ".git")
        try:
            is_file = stat.S_ISREG(os.lstat(dot_git).st_mode)
        except OSError:
            return None
        if not is_file:  # a folder (or a link, checked when the file is read)
            return os.path.join(dot_git, "info", name)
        # worktree or submodule: ".git" is a file "gitdir: <path>", followed only inside
        text, problem = _read_untrusted(dot_git, self.inside)
        if text is None:
            self.problems[".git"] = problem
            return None
        git_dir = os.path.join(self.root, text.partition("\n")[0].removeprefix("gitdir:").strip())
        if not self.inside(os.path.realpath(git_dir)):
            self.problems[".git"] = "gitdir outside the workspace: not followed"
            return None
        common, _ = _read_untrusted(os.path.join(git_dir, "commondir"), self.inside)
        if common:  # worktrees keep info/ in the common dir
            git_dir = os.path.join(git_dir, common.partition("\n")[0].strip())
        return os.path.join(git_dir, "info", name)

    def _load(self, path: str, prefix: str) -> _Layer | None:
        rel = self._relative(path)
        try:
            st = os.lstat(path)
        except OSError:
            self._cache.pop(path, None)
            self.problems.pop(rel, None)
            return None
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache.get(path)
        if cached is None or cached[0] != key:
            text, problem = _read_untrusted(path, self.inside)
            layer = None
            if text is not None:
                layer, dropped = _layer(prefix, text.splitlines())
                problem = "; ".join(filter(None, [problem, dropped]))
            if problem:
                log.warning("%s: %s", rel, problem)
            cached = (key, layer, problem)
            self._cache[path] = cached
        if cached[2]:
            self.problems[rel] = cached[2]
        else:
            self.problems.pop(rel, None)
        return cached[1]


def _layer(prefix: str, lines: Sequence[str]) -> tuple[_Layer | None, str]:
    """The layer of some patterns (None if none is usable), and which were dropped."""
    try:
        layer = _Layer(prefix, lines)
    except _COMPILE_ERRORS as exc:  # the automaton outgrew its memory budget
        return None, f"patterns too large to match together ({exc}): none used"
    problem = ""
    if layer.dropped:
        shown = ", ".join(f"{pattern[:80]!r} ({why})" for pattern, why in layer.dropped[:3])
        more = f" and {len(layer.dropped) - 3} more" if len(layer.dropped) > 3 else ""
        problem = f"patterns dropped as too costly to match: {shown}{more}"
    return (layer if layer.files.patterns else None), problem


# ---------------------------------------------------------------------------- attributes

# The attributes by which GitHub's Linguist is told what a file is (set in `.gitattributes`:
# `api/** linguist-generated`, `-linguist-vendored`, `linguist-documentation=false`), and
# the file role each sets, in the order a path's roles win (languages.file_role's).
LINGUIST_ROLES: dict[str, str] = {
    "linguist-vendored": "vendored",
    "linguist-generated": "generated",
    "linguist-documentation": "docs",
}
_ATTRIBUTES_RECHECK_S = 1.0  # how long a read attributes file is trusted without a stat


class LinguistAttributes:
    """The file roles a workspace's `.gitattributes` files (at every level) and
    `.git/info/attributes` give its paths, re-read when they change.

    As git reads them: the deepest file wins, `.git/info/attributes` over all, and in one
    file the last line that names the attribute; patterns match as `.gitignore` patterns do
    (with its limits on size and cost: the files are the repository's, untrusted).
    `[attr]` macros and quoted patterns are not read; `!attr` (unspecified) is read as
    nothing said.
    """

    def __init__(self, rules: IgnoreRules) -> None:
        self._rules = rules
        # path of an attributes file -> (checked at, stat key, attribute -> its patterns)
        self._files: dict[str, tuple[float, tuple[int, int, int] | None, dict[str, _Layer]]] = {}
        self._info: tuple[float, str | None] = (-_ATTRIBUTES_RECHECK_S, None)
        # folder -> (checked at, the patterns that apply in it, first those that win)
        self._folders: dict[str, tuple[float, list[dict[str, _Layer]]]] = {}

    def role(self, rel: str, base: str) -> str:
        """The role of the file at `rel` (workspace-relative): one an attribute sets, else
        `base` (its role by content or path), unless an attribute says it is not that
        (`-linguist-generated` on generated code: code)."""
        decided = self._decisions(rel)
        if not decided:
            return base
        for attribute, role in LINGUIST_ROLES.items():
            if decided.get(attribute):
                return role
        unset = {LINGUIST_ROLES[a] for a, value in decided.items() if value is False}
        return "code" if base in unset else base

    def _decisions(self, rel: str) -> dict[str, bool]:
        """Each attribute's value for the path where an attributes file sets it."""
        decided: dict[str, bool] = {}
        for patterns in self._folder_patterns(rel.rpartition("/")[0]):
            for attribute, layer in patterns.items():
                if attribute not in decided:
                    decision = layer.decide(rel, is_dir=False)
                    if decision is not None:
                        decided[attribute] = decision
        return decided

    def _folder_patterns(self, folder: str) -> list[dict[str, _Layer]]:
        """The patterns that apply in `folder` ("" the root), first those that win:
        `.git/info/attributes`, then the deepest `.gitattributes` up to the root's."""
        now = time.monotonic()
        cached = self._folders.get(folder)
        if cached is not None and now - cached[0] < _ATTRIBUTES_RECHECK_S:
            return cached[1]
        parts = folder.split("/") if folder else []
        prefixes = ["", *("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))]
        sources = [(os.path.join(self._rules.root, p, ".gitattributes"), p) for p in prefixes]
        info = self._info_path()
        if info is not None:
            sources.append((info, ""))
        found = [p for p in (self._patterns(*source) for source in reversed(sources)) if p]
        self._folders[folder] = (now, found)
        return found

    def _info_path(self) -> str | None:
        checked, path = self._info
        now = time.monotonic()
        if now - checked >= _ATTRIBUTES_RECHECK_S:
            path = self._rules._git_info_path("attributes")
            self._info = (now, path)
        return path

    def _patterns(self, path: str, prefix: str) -> dict[str, _Layer]:
        now = time.monotonic()
        cached = self._files.get(path)
        if cached is not None and now - cached[0] < _ATTRIBUTES_RECHECK_S:
            return cached[2]
        try:
            st = os.lstat(path)
            key: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            key = None
        if cached is not None and cached[1] == key:
            self._files[path] = (now, key, cached[2])
            return cached[2]
        patterns: dict[str, _Layer] = {}
        if key is not None:
            text, problem = _read_untrusted(path, self._rules.inside)
            if problem:
                log.warning("%s: %s", path, problem)
            patterns = _attribute_patterns(prefix, text or "", path)
        self._files[path] = (now, key, patterns)
        return patterns


def _attribute_patterns(prefix: str, text: str, path: str) -> dict[str, _Layer]:
    """Per Linguist attribute, the lines of one attributes file that set or unset it, as
    patterns that say so (an unset one negated: the last matching line wins)."""
    lines: dict[str, list[str]] = {attribute: [] for attribute in LINGUIST_ROLES}
    for line in text.splitlines():
        pattern, *attributes = line.split() or [""]
        if not pattern or pattern.startswith(("#", "[attr]", '"', "!")):
            continue  # a comment, a macro, a quoted pattern; a negated one git forbids
        for attribute in attributes:
            name, value = _attribute_value(attribute)
            if name in lines and value is not None:
                lines[name].append(pattern if value else f"!{pattern}")
    patterns: dict[str, _Layer] = {}
    for attribute, found in lines.items():
        layer, problem = _layer(prefix, found) if found else (None, "")
        if problem:
            log.warning("%s: %s", path, problem)
        if layer is not None:
            patterns[attribute] = layer
    return patterns


def _attribute_value(text: str) -> tuple[str, bool | None]:
    """`name` / `name=true`: set; `-name` / `name=false`: unset; `!name`: unspecified."""
    if text.startswith("-"):
        return text[1:], False
    if text.startswith("!"):
        return text[1:], None
    name, equals, value = text.partition("=")
    return name, not (equals and value.lower() == "false")


# ---------------------------------------------------------------------------- scanning


class _Frame(NamedTuple):
    abs: str  # the directory, through symlinks if reached by one
    prefix: str  # its workspace-relative path + "/", "" for the root
    real: str  # its real path
    layers: Layers  # rules for it and its entries, without its own .gitignore
    forced: bool  # re-included by a "!" rule: skip the pyvenv.cfg check


class _Link(NamedTuple):
    abs: str
    rel: str
    is_dir: bool
    parent: _Frame
    layers: Layers  # rules for the link's entries if it is a directory
    language: str  # "" for a directory
    forced: bool  # re-included by a "!" rule that names it


class _ScanState:
    def __init__(self, root_real: str) -> None:
        self.seen_dirs: set[str] = {root_real}
        self.seen_files: set[str] = set()
        self.links: deque[_Link] = deque()


def _valid_name(name: str) -> bool:
    """False for names that were not UTF-8 on disk (Python keeps them as surrogates)."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _printable(rel: str) -> str:
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class Scanner:
    """Walks one workspace folder: ``scan()`` for all files, ``check_file()`` for one.

    ``detect`` maps a workspace-relative path to a language name, None for files not to
    index; it defaults to ``lsp_server.engine.languages.detect_language``.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        exclude: Sequence[str] = (),
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        detect: Detect | None = None,
    ) -> None:
        if detect is None:
            from lsp_server.engine.languages import detect_language as detect
        self.root = Path(os.path.abspath(root))
        self.max_file_size = max_file_size
        self.rules = IgnoreRules(self.root, exclude)
        self._detect = detect
        self._root = str(self.root)
        self._root_real = os.path.realpath(self._root)

    # -------------------------------------------------------------------- public

    def scan(self) -> Iterator[ScannedFile | SkippedFile]:
        """Every indexable file, plus the ones a user would miss, with why.

        Order is deterministic: each directory's files by name, then its subdirectories
        by name, depth first; entries reached through symlinks come after all others.
        """
        state = _ScanState(self._root_real)
        self.rules.problems.clear()
        root = _Frame(self._root, "", self._root_real, self.rules._base_layers(), False)
        yield from self._walk(state, root)
        while state.links:
            yield from self._follow(state, state.links.popleft())
        for rel, reason in sorted(self.rules.problems.items()):
            yield SkippedFile(rel, reason)

    def check_file(self, abs_path: Path | str) -> ScannedFile | SkippedFile | None:
        """What ``scan()`` would say about one file; None when it is ignored or not code.

        A path through a symlink is answered for the file's real path when that one is
        in the workspace and not ignored, as scan() indexes a file under its real path.
        """
        rel = self._relative(abs_path)
        if not rel:
            return None
        if not _valid_name(rel):
            return SkippedFile(_printable(rel), "file name is not valid UTF-8")
        real = os.path.realpath(os.path.join(self._root, rel))
        if real != os.path.join(self._root_real, rel):  # goes through a symlink
            if not self.rules.inside(real):
                return SkippedFile(rel, "symlink outside workspace") if self._wanted(rel) else None
            real_rel = os.path.relpath(real, self._root_real).replace(os.sep, "/")
            if self._wanted(real_rel) is not None:
                rel = real_rel
        language = self._detect(rel)
        decision = None if language is None else self.rules.decision(rel, is_dir=False)
        if language is None or decision:
            return None
        return self._stat_and_sniff(
            os.path.join(self._root, rel), rel, language, forced=decision is False
        )

    # ------------------------------------------------------------------- walking

    def _walk(self, state: _ScanState, start: _Frame) -> Iterator[ScannedFile | SkippedFile]:
        stack = [start]
        while stack:
            frame = stack.pop()
            entries = yield from self._list(frame)
            if entries is None:
                continue
            names = {e.name for e in entries}
            if frame.prefix and not frame.forced and "pyvenv.cfg" in names:
                continue  # a virtualenv, whatever it is called
            layers = self.rules._child_layers(frame.layers, frame.prefix, ".gitignore" in names)
            subdirs: list[_Frame] = []
            for entry in entries:
                result = self._visit(state, frame, layers, entry, subdirs)
                if result is not None:
                    yield result
            stack.extend(reversed(subdirs))

    def _list(self, frame: _Frame) -> Generator[SkippedFile, None, list[os.DirEntry[str]] | None]:
        try:
            with os.scandir(frame.abs) as it:
                entries = list(it)
        except (FileNotFoundError, NotADirectoryError):
            return None  # vanished since it was listed
        except OSError as exc:
            yield SkippedFile(frame.prefix.rstrip("/") or ".", _os_reason(exc))
            return None
        entries.sort(key=lambda e: e.name)
        return entries

    def _visit(
        self,
        state: _ScanState,
        frame: _Frame,
        layers: Layers,
        entry: os.DirEntry[str],
        subdirs: list[_Frame],
    ) -> ScannedFile | SkippedFile | None:
        name = entry.name
        rel = frame.prefix + name
        if not name.isascii() and not _valid_name(name):
            return SkippedFile(_printable(rel), "file name is not valid UTF-8")
        is_link = False
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()  # follows links: decides which rules apply
            is_file = not is_dir and (is_link or entry.is_file(follow_symlinks=False))
        except OSError:  # ELOOP: a link loop, reported when the link is followed
            if not is_link:
                return None
            is_dir, is_file = False, True
        if not (is_dir or is_file):
            return None  # sockets, FIFOs, devices
        language = self._detect(rel) if is_file else ""
        if language is None:
            return None
        decision = self.rules._decide(layers, rel, is_dir)
        if decision:
            return None
        if is_link:  # after every real path, so real paths win duplicates
            forced = decision is False
            state.links.append(_Link(entry.path, rel, is_dir, frame, layers, language, forced))
            return None
        real = f"{frame.real}/{name}" if os.sep == "/" else os.path.join(frame.real, name)
        if is_dir:
            if real not in state.seen_dirs:
                state.seen_dirs.add(real)
                subdirs.append(_Frame(entry.path, rel + "/", real, layers, decision is False))
            return None
        return self._file(state, entry.path, rel, real, language, decision is False)

    def _follow(self, state: _ScanState, link: _Link) -> Iterator[ScannedFile | SkippedFile]:
        try:
            real = os.path.realpath(link.abs, strict=True)
        except FileNotFoundError:
            yield SkippedFile(link.rel, "broken symlink")
            return
        except OSError as exc:  # ELOOP for a -> b -> a
            yield SkippedFile(link.rel, _os_reason(exc))
            return
        if not self.rules.inside(real):
            yield SkippedFile(link.rel, "symlink outside workspace")
            return
        if not link.is_dir:
            result = self._file(state, link.abs, link.rel, real, link.language, link.forced)
            if result is not None:
                yield result
            return
        if real in state.seen_dirs:
            parent = link.parent.real
            if parent == real or parent.startswith(real + os.sep):
                yield SkippedFile(link.rel, "symlink loop")
            return  # else: another name for a directory already indexed
        state.seen_dirs.add(real)
        yield from self._walk(state, _Frame(link.abs, link.rel + "/", real, link.layers, False))

    def _file(
        self, state: _ScanState, abs_path: str, rel: str, real: str, language: str, forced: bool
    ) -> ScannedFile | SkippedFile | None:
        if real in state.seen_files:
            return None
        state.seen_files.add(real)
        return self._stat_and_sniff(abs_path, rel, language, forced=forced)

    def _stat_and_sniff(
        self, abs_path: str, rel: str, language: str, *, forced: bool = False
    ) -> ScannedFile | SkippedFile | None:
        try:
            fd = os.open(abs_path, _OPEN_FLAGS)
        except FileNotFoundError:
            return None  # vanished since it was listed
        except OSError as exc:
            return SkippedFile(rel, _os_reason(exc))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            if st.st_size > self.max_file_size:
                return SkippedFile(rel, _too_large(st.st_size, self.max_file_size))
            head = os.read(fd, HEAD_SIZE)
        except OSError as exc:
            return SkippedFile(rel, _os_reason(exc))
        finally:
            os.close(fd)
        if _is_binary(head):
            return SkippedFile(rel, "binary")
        return ScannedFile(
            rel,
            Path(abs_path),
            st.st_size,
            st.st_mtime_ns,
            language,
            st.st_ino,
            st.st_ctime_ns,
            forced,
        )

    # ------------------------------------------------------------- single files

    def _wanted(self, rel: str) -> str | None:
        """The language of a file path that passes the rules, else None."""
        language = self._detect(rel)
        if language is None or self.rules.is_ignored(rel, is_dir=False):
            return None
        return language

    def _relative(self, abs_path: Path | str) -> str | None:
        """Workspace-relative '/'-path, by the path as given or, failing that, its real one."""
        for base, path in (
            (self._root, os.path.abspath(abs_path)),
            (self._root_real, os.path.realpath(abs_path)),
        ):
            if path.startswith(base + os.sep):
                return path[len(base) + 1 :].replace(os.sep, "/")
        return None

