"""Source trees for benchmark sets: a local folder, a PyPI sdist, an npm package, Debian sources.

Downloads go through each registry's ordinary client (pip, npm, apt-get) and nothing else.
Debian sources use a private apt state (lists, cache, a sources list that adds `deb-src`
lines for the mirror this machine already uses): the system's apt configuration is read,
never changed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..engine.locations import cache_root

SOURCE_KINDS = ("folder", "pypi", "npm", "deb")
# Binary packages that ship sources, and where inside them: Go and Rust libraries.
# Binary packages that carry their sources, and where: Go and Rust "-dev" packages, Ruby and
# PHP libraries (`nearcode train` mines those). Other packages: the source package.
_DEB_SOURCE_ROOTS = {
    "golang-": ("usr/share/gocode/src",),
    "librust-": ("usr/share/cargo/registry",),
    "ruby-": ("usr/share/rubygems-integration/all/gems", "usr/lib/ruby/vendor_ruby"),
    "php-": ("usr/share/php",),
}
_SOURCE_PREFIX = "src:"  # --from-deb src:ruby-rack: the source package, not the installed files
_DEB_DEV_ONLY = ("golang-", "librust-")  # their other binary packages hold no sources
_APT_LISTS_MAX_AGE_S = 24 * 3600


@dataclass(frozen=True)
class Source:
    kind: str  # one of SOURCE_KINDS
    spec: str  # DIR, NAME==VER, NAME@VER or PACKAGE[=VER]

    @property
    def name(self) -> str:
        """A folder name for the set: the spec with its version, made safe."""
        spec = Path(self.spec).resolve().name if self.kind == "folder" else self.spec
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", spec.replace("==", "-").lstrip("@")).strip("-")

    @property
    def version(self) -> str:
        for separator in ("==", "@", "="):
            head, sep, tail = self.spec.lstrip("@").rpartition(separator)
            if sep and head:
                return tail
        return ""


@dataclass(frozen=True)
class Fetched:
    tree: Path
    version: str  # as the registry names it ("" for a local folder)


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    except FileNotFoundError as exc:
        raise ValueError(f"{what}: {command[0]} is not installed ({exc})") from exc
    if done.returncode != 0:
        raise ValueError(f"{what} failed:\n{(done.stderr or done.stdout)[-2000:]}")
    return done.stdout


def _unpack(archive: Path, target: Path) -> Path:
    """Unpacks a zip or tar archive; returns its single top folder (or the target)."""
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(target)
    else:
        with tarfile.open(archive) as handle:
            handle.extractall(target, filter="data")
    entries = list(target.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else target


def download_sdist(requirement: str, into: Path) -> Path:
    """pip-downloads a source distribution and unpacks it; returns the unpacked folder."""
    if "==" not in requirement:
        raise ValueError(f"pin the version: NAME==VERSION, got {requirement!r}")
    # Only this package as source: ":all:" would also build its build requirements from
    # source to read its metadata (pyyaml's needs Cython, many minutes of compiling).
    name = requirement.split("==", 1)[0].strip()
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name]
    _run([*command, requirement, "-d", str(into)], f"pip download {requirement}")
    archives = [p for p in into.iterdir() if p.suffix in (".gz", ".zip", ".bz2", ".tgz")]
    if not archives:
        raise ValueError(f"pip download {requirement} produced no source archive")
    return _unpack(archives[0], into / "src")


def download_npm(spec: str, into: Path) -> Path:
    """`npm pack NAME@VERSION`: the files the package publishes, unpacked."""
    if "@" not in spec.lstrip("@"):
        raise ValueError(f"pin the version: NAME@VERSION, got {spec!r}")
    into.mkdir(parents=True, exist_ok=True)
    _run(["npm", "pack", "--silent", spec], f"npm pack {spec}", cwd=into)
    archives = sorted(into.glob("*.tgz"))
    if not archives:
        raise ValueError(f"npm pack {spec} produced no archive")
    return _unpack(archives[0], into / "src")


# -- Debian ---------------------------------------------------------------------------------


def _system_mirror() -> tuple[str, str, str]:
    """(URI, suite, keyring) of the Debian archive this machine's apt already uses."""
    stanzas: list[str] = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        stanzas += path.read_text(errors="replace").split("\n\n")
    for stanza in stanzas:
        fields = dict(
            line.split(":", 1) for line in stanza.splitlines() if re.match(r"^[A-Za-z-]+:", line)
        )
        fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
        if "deb" in fields.get("types", "").split() and "main" in fields.get("components", ""):
            suites = fields.get("suites", "").split()
            if fields.get("uris") and suites and "security" not in fields["uris"]:
                return fields["uris"].split()[0], suites[0], fields.get("signed-by", "")
    sources_list = Path("/etc/apt/sources.list")
    lines = sources_list.read_text(errors="replace").splitlines() if sources_list.exists() else []
    for line in lines:
        match = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s+.*\bmain\b", line)
        if match and "security" not in match.group(1):
            return match.group(1), match.group(2), ""
    raise ValueError("no Debian archive found in /etc/apt: Debian sources need a Debian system")


class PrivateApt:
    """apt-get with its own sources list, lists and cache (the system's apt stays untouched)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state = folder / "state"
        self.cache = folder / "cache"
        self.sources = folder / "etc" / "sources.list"

    def options(self) -> list[str]:
        return [
            "-o", f"Dir::Etc::SourceList={self.sources}",
            "-o", f"Dir::Etc::SourceParts={self.sources.parent}",
            "-o", f"Dir::State={self.state}",
            "-o", f"Dir::Cache={self.cache}",
            "-o", "Dir::State::Status=/var/lib/dpkg/status",
        ]  # fmt: skip

    def ready(self) -> None:
        """Writes the sources list and runs `apt-get update` when the lists are old or absent."""
        uri, suite, keyring = _system_mirror()
        signed = f"[signed-by={keyring}] " if keyring else ""
        text = f"deb {signed}{uri} {suite} main\ndeb-src {signed}{uri} {suite} main\n"
        for folder in (self.state / "lists" / "partial", self.cache / "archives" / "partial"):
            folder.mkdir(parents=True, exist_ok=True)
        self.sources.parent.mkdir(parents=True, exist_ok=True)
        stamp = self.state / "updated"
        fresh = stamp.exists() and _age(stamp) < _APT_LISTS_MAX_AGE_S
        if fresh and self.sources.exists() and self.sources.read_text() == text:
            return
        self.sources.write_text(text)
        _run(["apt-get", *self.options(), "update"], "apt-get update (private lists)")
        stamp.write_text("")

    def get(self, args: list[str], into: Path, what: str) -> None:
        into.mkdir(parents=True, exist_ok=True)
        _run(["apt-get", *self.options(), *args], what, cwd=into)


def _age(path: Path) -> float:
    return time.time() - path.stat().st_mtime


def _descend(folder: Path) -> Path:
    """Down through folders that hold exactly one folder and nothing else (import paths)."""
    while True:
        entries = list(folder.iterdir())
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            return folder
        folder = entries[0]


def source_package(spec: str) -> tuple[str, bool]:
    """A `--from-deb` spec without its `src:` prefix, and whether it had one."""
    return spec.removeprefix(_SOURCE_PREFIX), spec.startswith(_SOURCE_PREFIX)


def download_deb(spec: str, into: Path) -> Fetched:
    """Go/Rust/Ruby/PHP sources from the binary package that installs them (golang-*-dev,
    librust-*-dev, ruby-*, php-*), else a source package; `src:PACKAGE[=VER]` asks for the
    source package (the repository, tests and changelog with it) whatever its name."""
    apt = PrivateApt(cache_root() / "bench" / "apt")
    apt.ready()
    spec, from_source = source_package(spec)
    package = spec.split("=", 1)[0]
    roots = [p for prefix, p in _DEB_SOURCE_ROOTS.items() if package.startswith(prefix)]
    roots = [] if from_source else roots
    carries = package.endswith("-dev") or not package.startswith(_DEB_DEV_ONLY)
    inside = roots[0] if roots and carries else ()
    if inside:
        apt.get(["download", spec], into / "deb", f"apt-get download {spec}")
        debs = sorted((into / "deb").glob("*.deb"))
        if not debs:
            raise ValueError(f"apt-get download {spec} produced no package")
        _run(["dpkg-deb", "-x", str(debs[0]), str(into / "root")], f"dpkg-deb -x {debs[0].name}")
        root = next((into / "root" / p for p in inside if (into / "root" / p).is_dir()), None)
        if root is None:
            raise ValueError(f"{debs[0].name} has no sources under /{' or /'.join(inside)}")
        version = _run(["dpkg-deb", "-f", str(debs[0]), "Version"], "dpkg-deb -f").strip()
        return Fetched(_descend(root), version)
    apt.get(["source", "--download-only", spec], into / "dsc", f"apt-get source {spec}")
    archives = sorted((into / "dsc").glob("*.orig.tar.*"), key=lambda p: p.stat().st_size)
    if not archives:  # a native package: its one tarball is the source
        archives = sorted((into / "dsc").glob("*.tar.*"), key=lambda p: p.stat().st_size)
    if not archives:
        raise ValueError(f"apt-get source {spec} produced no source tarball")
    dsc = next((into / "dsc").glob("*.dsc"), None)
    version = dsc.stem.split("_", 1)[-1] if dsc else ""
    return Fetched(_unpack(archives[-1], into / "src"), version)


def fetch(source: Source, into: Path) -> Fetched:
    """The source tree of `source`, downloaded under `into` when it is not a local folder."""
    if source.kind == "folder":
        folder = Path(source.spec)
        if not folder.is_dir():
            raise ValueError(f"not a folder: {source.spec}")
        return Fetched(folder, "")
    if source.kind == "pypi":
        return Fetched(download_sdist(source.spec, into), source.version)
    if source.kind == "npm":
        return Fetched(download_npm(source.spec, into), source.version)
    if source.kind == "deb":
        return download_deb(source.spec, into)
    raise ValueError(f"unknown source kind {source.kind!r}: use one of {SOURCE_KINDS}")


_VERSION_CONTROL = shutil.ignore_patterns(".git", ".hg")


def copy_tree(source: Path, target: Path) -> None:
    """A byte-identical copy (symlinks kept as links) without version-control folders."""
    shutil.copytree(source, target, symlinks=True, ignore=_VERSION_CONTROL)


def without_paths(fetched: Fetched, paths: tuple[str, ...], into: Path) -> Fetched:
    """The fetched tree less `paths` (relative to its root), as a copy under `into`: a
    package that ships compiled copies of its sources (an npm package's `lib/`, `dist/`)
    beside them, trimmed to what its repository holds. Every path must exist."""
    missing = [rel for rel in paths if not (fetched.tree / rel).exists()]
    if missing:
        raise ValueError(f"--without: not in {fetched.tree}: {', '.join(missing)}")
    left_out = {Path(rel) for rel in paths}

    def ignored(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).relative_to(fetched.tree)
        return _VERSION_CONTROL(folder, names) | {n for n in names if here / n in left_out}

    trimmed = into / "trimmed"
    shutil.copytree(fetched.tree, trimmed, symlinks=True, ignore=ignored)
    return Fetched(trimmed, fetched.version)
