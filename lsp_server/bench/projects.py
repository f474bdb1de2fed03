"""Building in-place sets: one source, or every project of a pinned list (projects.json)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .classsets import build_class_set
from .errorsets import build_error_set
from .inplace import DEFAULT_SAMPLE, build_in_place
from .namesets import NAME_SOURCES, build_name_set
from .sharedtrees import SHARED, prune_shared, share_tree
from .similarsets import build_similar_set
from .sources import Fetched, Source, copy_tree, fetch, without_paths
from .treeset import METADATA, QUESTIONS, TREE, read_meta, read_questions, write_questions

DEFAULT_PROJECTS = Path(__file__).with_name("projects.json")
# Bump when a rebuild would give other questions for the same source. 2: a `.h` file holding
# C++ is read as C++ (its definitions, docs and tags were C's misreadings: fmt's headers).
# 3: C# properties and indexers are documented definitions too, no doc is sampled from a file
# the engine calls generated or vendored, and "Gets or sets the value." is an accessor's
# boilerplate, as "Returns the value." was (KeePass's and pythonnet's doc sets change).
# 4: a method without a body (an interface's, an abstract one) is never a Find Similar
# question or target; it was when its doc made it four lines or more (jsoup's, twig's,
# monolog's and concurrent-ruby's Find Similar sets change).
# 5: a Rust doc comment that `#[cfg_attr(..., doc = "...")]` lines interrupt is one doc (clap
# writes them inside its examples); its last run alone was the question ("# use clap::...").
# 6: Find Similar and name sets read the `<script>` of Vue and Svelte components too (a name
# a component also defines is no longer "defined in one place").
# 7: no doc is sampled from a file whose content makes it a test module or generated code
# (chunker.content_role: Django's `tests.py`; allauth's doc set changes), nor from
# Storybook's stories (`*.stories.tsx`; no pinned tree holds one).
BUILDER_VERSION = 7
ROLES = ("tune", "report")
# What a built set asks: the first sentences of removed docs, the tree's error messages,
# Find Similar on definitions that share a name with others (their other implementations)
# or on classes that share a direct supertype with others (their siblings), or definitions
# and constants by their bare name.
QUERY_SOURCES = ("docs", "errors", "similar", "classes", *NAME_SOURCES)


@dataclass(frozen=True)
class Project:
    name: str
    source: Source
    language: str
    role: str  # "tune": used to choose engine settings; "report": held out, only reported
    sample: int = DEFAULT_SAMPLE
    seed: int = 0
    questions: Path | None = None  # hand-written questions instead of removed docs
    queries: str = "docs"  # one of QUERY_SOURCES
    without: tuple[str, ...] = ()  # paths of the fetched tree left out (without_paths)


def load_projects(path: Path) -> list[Project]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the project list {path}: {exc}") from exc
    projects = []
    for row in data.get("projects", []):
        if row.get("role") not in ROLES:
            raise ValueError(f"{path}: {row.get('name')}: role must be one of {ROLES}")
        source = Source(row["source"], row["spec"])
        if row.get("queries", "docs") not in QUERY_SOURCES:
            raise ValueError(f"{path}: {row.get('name')}: queries must be one of {QUERY_SOURCES}")
        projects.append(
            Project(
                row.get("name") or source.name,
                source,
                row["language"],
                row["role"],
                int(row.get("sample", data.get("sample", DEFAULT_SAMPLE))),
                int(row.get("seed", data.get("seed", 0))),
                path.parent / row["questions"] if row.get("questions") else None,
                row.get("queries", "docs"),
                tuple(row.get("without", ())),
            )
        )
    if not projects:
        raise ValueError(f"{path} lists no projects")
    return projects


def _meta(source: Source, fetched: Fetched, **extra) -> dict:
    return {
        "source": {"kind": source.kind, "spec": source.spec},
        "version": fetched.version,
        "builder": BUILDER_VERSION,
        **extra,
    }


def build_source(
    source: Source,
    out: Path,
    *,
    sample: int,
    seed: int,
    questions: Path | None,
    extra: dict,
    queries: str = "docs",
    without: tuple[str, ...] = (),
) -> str:
    """Builds one set; returns a line saying what was written."""
    with tempfile.TemporaryDirectory(prefix="nearcode-bench-") as tmp:
        fetched = fetch(source, Path(tmp))
        if without:
            fetched = without_paths(fetched, without, Path(tmp))
            extra = {**extra, "without": list(without)}
        meta = _meta(source, fetched, name=out.resolve().name, **extra)
        if questions is not None:
            # The user's own folder is referenced, unless trimmed: then the copy is the tree.
            referenced = source.kind == "folder" and not without
            return _hand_written(fetched, out, questions, meta, referenced)
        if queries == "errors":
            asked = build_error_set(fetched.tree, out, sample=sample, seed=seed, meta=meta)
            return f"wrote {out}: {asked} error messages, asked as selections"
        if queries == "similar":
            asked = build_similar_set(fetched.tree, out, sample=sample, seed=seed, meta=meta)
            return f"wrote {out}: {asked} definitions, asked as Find Similar"
        if queries == "classes":
            asked = build_class_set(fetched.tree, out, sample=sample, seed=seed, meta=meta)
            return f"wrote {out}: {asked} classes, asked as Find Similar"
        if queries in NAME_SOURCES:
            asked = build_name_set(
                fetched.tree, out, queries=queries, sample=sample, seed=seed, meta=meta
            )
            what = "tagged definitions" if queries == "tags" else queries
            return f"wrote {out}: {asked} {what}, asked by their bare name"
        built = build_in_place(fetched.tree, out, sample=sample, seed=seed, meta=meta)
    counts = built.meta["counts"]
    return (
        f"wrote {out}: {counts['files']} files, {counts['documented_definitions']} documented "
        f"definitions, {built.questions} questions ({counts['eligible']} eligible)"
    )


def _hand_written(
    fetched: Fetched, out: Path, questions: Path, meta: dict, referenced: bool
) -> str:
    """A set of the user's own questions against the untouched tree."""
    if out.exists() and any(out.iterdir()) and not (out / METADATA).is_file():
        raise ValueError(f"{out} exists and is not a set folder: choose another --out")
    checked = read_questions(questions, fetched.tree)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if referenced:  # the user's repository: referenced, never copied or changed
        tree_ref = str(fetched.tree.resolve())
    else:
        copy_tree(fetched.tree, out / TREE)
        tree_ref = TREE
    write_questions(out / QUESTIONS, checked)
    meta |= {"layout": "in-place", "tree": tree_ref, "questions_from": str(questions)}
    meta.setdefault("language", meta.get("language_listed", ""))
    (out / METADATA).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return f"wrote {out}: {len(checked)} hand-written questions against {tree_ref}"


def _up_to_date(project: Project, out: Path) -> bool:
    meta = read_meta(out) if out.is_dir() else {}
    wanted = {"kind": project.source.kind, "spec": project.source.spec}
    same = meta.get("source") == wanted and meta.get("builder") == BUILDER_VERSION
    same = same and meta.get("without", []) == list(project.without)
    if project.questions is not None:  # rebuilt whenever the questions file changes
        stamp = project.questions.stat().st_mtime
        same = same and meta.get("questions_mtime") == stamp
    else:
        same = same and (meta.get("sample"), meta.get("seed")) == (project.sample, project.seed)
        same = same and meta.get("queries", "docs") == project.queries
    tree = Path(meta.get("tree", TREE))
    present = (tree if tree.is_absolute() else out / tree).is_dir()  # a link's target too
    return same and present and (out / QUESTIONS).is_file()


def build_projects(
    path: Path, out: Path, *, force: bool = False, say: Callable[[str], None] = print
) -> int:
    """Builds every listed project into OUT/<name>; sets already built the same way are kept.
    Trees that sets leave untouched are held once under OUT/.trees (sharedtrees)."""
    failures = 0
    for project in load_projects(path):
        target = out / project.name
        if not force and _up_to_date(project, target):
            say(f"{target}: up to date")
            continue
        extra = {"language_listed": project.language, "role": project.role}
        if project.questions is not None:
            extra["questions_mtime"] = project.questions.stat().st_mtime
        try:
            line = build_source(
                project.source,
                target,
                sample=project.sample,
                seed=project.seed,
                questions=project.questions,
                extra=extra,
                queries=project.queries,
                without=project.without,
            )
            # Only docs sets change their tree; a user's folder asked with their own
            # questions is referenced where it is (no TREE of the set's own).
            untouched = project.questions is not None or project.queries != "docs"
            if untouched and (target / TREE).is_dir():
                share_tree(target, out / SHARED)
        except (ValueError, OSError) as exc:
            failures += 1
            print(f"{project.name}: {exc}", file=sys.stderr)
            continue
        say(line)
    for stale in prune_shared(out / SHARED):
        say(f"removed {stale}: no set links to it")
    return failures
