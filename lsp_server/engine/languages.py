"""Which language a file is written in, and what it is for (code, test, docs...), judged from
its path alone (no content sniffing; the indexer adds the role a code file's content gives
it, code a tool wrote or a test module: chunker.content_role)."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import cache

# Language id -> (Python module of the grammar wheel, function returning the language pointer).
# These are the languages chunked by syntax; every other known language is chunked by lines.
GRAMMAR_MODULES: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "kotlin": ("tree_sitter_kotlin", "language"),
    "swift": ("tree_sitter_swift", "language"),
}

TREE_SITTER_LANGUAGES: frozenset[str] = frozenset(GRAMMAR_MODULES)

# Single-file components: markup whose code sits in `<script>` elements and whose styles sit in
# `<style>` elements. The text of each element is chunked in its own language (a `lang`
# attribute says which; else the default here), the markup around them by lines.
COMPONENT_LANGUAGES: frozenset[str] = frozenset({"vue", "svelte", "astro"})
COMPONENT_ELEMENT_DEFAULTS: dict[str, str] = {"script": "javascript", "style": "css"}
# Where a component language reads its scripts otherwise: Astro compiles a `<script>` (and its
# frontmatter, the code between the `---` lines that open the file) as TypeScript.
COMPONENT_SCRIPT_DEFAULTS: dict[str, str] = {"astro": "typescript"}
# Component languages whose file may open with a frontmatter of code between `---` lines, in
# the language of their scripts (COMPONENT_SCRIPT_DEFAULTS).
COMPONENT_FRONTMATTER: frozenset[str] = frozenset({"astro"})
# A `lang` attribute's value -> language id (`lang="stylus"` and other unknown ones: markup).
COMPONENT_ELEMENT_LANGS: dict[str, str] = {
    **dict.fromkeys(("js", "javascript", "jsx"), "javascript"),
    **dict.fromkeys(("ts", "typescript"), "typescript"),
    "tsx": "tsx",
    **dict.fromkeys(("css", "postcss"), "css"),
    "scss": "scss",
    "sass": "sass",
    "less": "less",
}

# Lower-cased extension (without the dot) -> language id.
_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys(("py", "pyi", "pyw"), "python"),
    **dict.fromkeys(("js", "mjs", "cjs", "jsx"), "javascript"),
    **dict.fromkeys(("ts", "mts", "cts"), "typescript"),
    "tsx": "tsx",
    "go": "go",
    "rs": "rust",
    "java": "java",
    # .h is far more often C (or C-compatible C++) than C++-only; the C grammar parses both well.
    **dict.fromkeys(("c", "h"), "c"),
    **dict.fromkeys(("cc", "cpp", "cxx", "c++", "hpp", "hh", "hxx", "h++", "ipp", "tpp"), "cpp"),
    "cs": "csharp",
    **dict.fromkeys(("rb", "rake", "gemspec", "ru"), "ruby"),
    **dict.fromkeys(("php", "phtml"), "php"),
    **dict.fromkeys(("md", "markdown", "mdx"), "markdown"),
    **dict.fromkeys(("yml", "yaml"), "yaml"),
    "toml": "toml",
    **dict.fromkeys(("json", "jsonc", "json5"), "json"),
    **dict.fromkeys(("sh", "bash", "zsh", "ksh"), "shell"),
    "fish": "fish",
    **dict.fromkeys(("ps1", "psm1"), "powershell"),
    **dict.fromkeys(("bat", "cmd"), "batch"),
    "sql": "sql",
    **dict.fromkeys(("html", "htm", "xhtml"), "html"),
    "css": "css",
    "scss": "scss",
    "sass": "sass",
    "less": "less",
    **dict.fromkeys(("kt", "kts"), "kotlin"),
    "swift": "swift",
    **dict.fromkeys(("scala", "sc"), "scala"),
    **dict.fromkeys(("groovy", "gradle"), "groovy"),
    "lua": "lua",
    "r": "r",
    "dart": "dart",
    **dict.fromkeys(("ex", "exs"), "elixir"),
    **dict.fromkeys(("erl", "hrl"), "erlang"),
    "hs": "haskell",
    **dict.fromkeys(("ml", "mli"), "ocaml"),
    **dict.fromkeys(("clj", "cljs", "cljc", "edn"), "clojure"),
    **dict.fromkeys(("pl", "pm"), "perl"),
    "jl": "julia",
    "zig": "zig",
    "nim": "nim",
    "m": "objective-c",
    "mm": "objective-cpp",
    "proto": "protobuf",
    **dict.fromkeys(("graphql", "gql"), "graphql"),
    **dict.fromkeys(("tf", "tfvars", "hcl"), "hcl"),
    "cmake": "cmake",
    "dockerfile": "dockerfile",
    "mk": "makefile",
    **dict.fromkeys(("xml", "xsd", "xsl", "xslt", "plist"), "xml"),
    **dict.fromkeys(("ini", "cfg", "conf", "properties", "editorconfig"), "ini"),
    **dict.fromkeys(("txt", "rst", "adoc"), "text"),
    "vue": "vue",
    "svelte": "svelte",
    "astro": "astro",
}

# Exact lower-cased file names that have no telling extension.
_FILENAMES: dict[str, str] = {
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "makefile": "makefile",
    "gnumakefile": "makefile",
    "rakefile": "ruby",
    "gemfile": "ruby",
    "vagrantfile": "ruby",
    "brewfile": "ruby",
    "podfile": "ruby",
    "jenkinsfile": "groovy",
    "cmakelists.txt": "cmake",
    ".bashrc": "shell",
    ".bash_profile": "shell",
    ".zshrc": "shell",
    ".profile": "shell",
    ".editorconfig": "ini",
    ".gitignore": "text",
    "readme": "text",
    "license": "text",
    "changelog": "text",
}

# Generated files that match an indexed extension but only add noise to search results.
_SKIP_FILENAMES: frozenset[str] = frozenset(
    {"package-lock.json", "pnpm-lock.yaml", "npm-shrinkwrap.json", "composer.lock"}
)
_SKIP_SUFFIXES: tuple[str, ...] = (".min.js", ".min.css", ".min.mjs")


def _basename(path: str) -> str:
    # Accept both separators: paths may come from Windows clients.
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def detect_language(path: str) -> str | None:
    """Return the language id of ``path``, or None for files that are not indexed."""
    name = _basename(path).lower()
    if not name or name in _SKIP_FILENAMES or name.endswith(_SKIP_SUFFIXES):
        return None
    if name in _FILENAMES:
        return _FILENAMES[name]
    if name.startswith(("dockerfile.", "containerfile.")):
        return "dockerfile"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        # No extension, or a dot-file like ".env" whose "extension" is really its name.
        return None
    return _EXTENSIONS.get(ext)


@cache
def has_grammar(language: str) -> bool:
    """True when ``language`` is chunked by syntax and its grammar wheel is importable."""
    module = GRAMMAR_MODULES.get(language)
    return module is not None and importlib.util.find_spec(module[0]) is not None


# Names people type for a language filter (`--language ts`) -> language id.
LANGUAGE_ALIASES: dict[str, str] = {
    "py": "python",
    "js": "javascript",
    "jsx": "javascript",
    "node": "javascript",
    "ts": "typescript",
    "golang": "go",
    "rs": "rust",
    "c#": "csharp",
    "cs": "csharp",
    "c++": "cpp",
    "cxx": "cpp",
    "rb": "ruby",
    "md": "markdown",
    "sh": "shell",
    "bash": "shell",
    "yml": "yaml",
    "kt": "kotlin",
}

# A filter on a language also takes its dialects: TSX files are TypeScript to a user.
LANGUAGE_FAMILIES: dict[str, tuple[str, ...]] = {"typescript": ("typescript", "tsx")}


@cache
def known_languages() -> frozenset[str]:
    """Every language id a file can be indexed as."""
    return frozenset(_EXTENSIONS.values()) | frozenset(_FILENAMES.values())


# ---------------------------------------------------------------------------------------------
# File roles: what a file is for, judged from its path alone (rankers weigh results by it)
# ---------------------------------------------------------------------------------------------

FILE_ROLES = (
    "code",
    "test",
    "docs",
    "changelog",
    "license",
    "example",
    "generated",
    "vendored",
    "config",
    "declarations",
    "style",
)
PROSE_LANGUAGES = frozenset({"text", "markdown"})  # and files of no known language
STYLE_LANGUAGES = frozenset({"css", "scss", "sass", "less"})


@dataclass(frozen=True)
class _RoleRule:
    """A file has ``role`` when a folder on its path, its name or its language matches."""

    role: str
    folders: frozenset[str] = frozenset()  # lower-cased folder names, anywhere on the path
    names: re.Pattern[str] | None = None  # the whole file name (case as written in the pattern)
    languages: frozenset[str] = frozenset()
    prose_only: bool = False  # only for files that are not source code (`history.py` is code)


def _names(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# First match wins: vendored and generated files stay so whatever else they look like.
_ROLE_RULES: tuple[_RoleRule, ...] = (
    _RoleRule(
        "vendored",
        folders=frozenset(
            {
                "vendor",
                "vendored",
                "_vendor",
                "third_party",
                "third-party",
                "thirdparty",
                "3rdparty",
                "node_modules",
                "bower_components",
                "site-packages",
            }
        ),
    ),
    _RoleRule(
        "generated",
        folders=frozenset({"generated", "__generated__"}),
        names=_names(
            r".+_pb2(?:_grpc)?\.pyi?",  # protobuf / gRPC
            r".+\.pb(?:\.gw)?\.(?:go|cc|h|swift)",
            r".+_pb\.(?:js|d\.ts)",
            r".+[._](?i:generated)\.\w+",  # foo.generated.ts, foo_generated.go
            r"zz_generated.*\.go",
            r".+\.(?:g|freezed)\.dart",
            r".+\.(?:g|g\.i|[Dd]esigner)\.cs",
            r".+\.(?:min|bundle)\.(?:js|css|mjs)",
            r".+\.map",
            r"(?:package-lock\.json|yarn\.lock|pnpm-lock\.yaml|npm-shrinkwrap\.json|Cargo\.lock"
            r"|poetry\.lock|Pipfile\.lock|composer\.lock|Gemfile\.lock|go\.sum|uv\.lock)",
        ),
    ),
    _RoleRule(
        "license",
        names=_names(r"(?i:(?:un)?licen[cs]e|copying|notice|copyright)(?:[-._][\w.-]*)?"),
        prose_only=True,
    ),
    _RoleRule(
        "changelog",
        folders=frozenset({"changelog.d", "newsfragments", "changelogs", "releases"}),
        names=_names(
            r"(?i:change[-_]?log|changes|history|news|releases?|release[-_]?notes"
            r"|whats[-_]?new)(?:[-._][\w.-]*)?"
        ),
        prose_only=True,
    ),
    # Benchmarks too (Cargo's benches/, asv's benchmarks/): code that drives the code, like
    # a test, and full of the words of what it measures.
    _RoleRule(
        "test",
        folders=frozenset(
            {"test", "tests", "__tests__", "__mocks__", "spec", "specs", "testdata", "test_data",
             "testing", "e2e", "bench", "benches", "benchmark", "benchmarks"}
        ),
        names=_names(
            r"test_.+\.py|.+_test\.py|conftest\.py",
            r".+_test\.(?:go|rb|exs|rs|c|cc|cpp|dart)",
            r".+\.(?:test|spec)\.[cm]?[jt]sx?",
            r".+(?:Test|Tests|IT|Spec)\.(?:java|kt|scala|groovy|cs|php|swift)",
            r".+_spec\.rb|test_.+\.rb",
        ),
    ),
    _RoleRule(
        "example",
        folders=frozenset(
            {"example", "examples", "_examples", "sample", "samples", "demo", "demos",
             "__stories__"}
        ),
        # Storybook's stories beside the components they render (`Button.stories.tsx`,
        # Mantine's `Button.story.tsx`): each renders its component in one state, in the
        # component's own words ("busy", "disabled"), an example of its use.
        names=_names(r".+\.stor(?:y|ies)\.(?:[cm]?[jt]sx?|mdx|vue|svelte|astro)"),
    ),
    _RoleRule("docs", folders=frozenset({"doc", "docs", "documentation"})),
    # Type declarations beside an implementation (TypeScript .d.ts, Python stubs): they often
    # repeat its documentation, and the implementation is what a question is after.
    _RoleRule("declarations", names=_names(r".+\.d\.[cm]?ts", r".+\.pyi")),
    # Stylesheets: a front end's `.scss` beside its components holds the words of most
    # questions about them ("menu items", "display") and answers only those about looks.
    _RoleRule("style", languages=STYLE_LANGUAGES),
    _RoleRule(
        "config",
        folders=frozenset(
            {".github", ".circleci", ".gitlab", ".vscode", ".devcontainer", ".storybook"}
        ),
        names=_names(
            r"(?i:setup\.py|setup\.cfg|pyproject\.toml|tox\.ini|noxfile\.py|manifest\.in"
            r"|requirements.*\.txt|constraints.*\.txt|pipfile|package\.json|[jt]sconfig.*\.json"
            r"|cargo\.toml|go\.mod|pom\.xml|build\.gradle(?:\.kts)?|settings\.gradle(?:\.kts)?"
            r"|gemfile|rakefile|.+\.gemspec|composer\.json|cmakelists\.txt|makefile|gnumakefile"
            r"|dockerfile.*|containerfile|docker-compose.*\.ya?ml|\.[\w.-]*rc(?:\.\w+)?"
            r"|\.editorconfig|\.git\w*|\.npmignore|\.dockerignore)",
            r".+\.config\.[cm]?[jt]s",  # webpack.config.js, vite.config.ts, jest.config.mjs
        ),
        languages=frozenset(
            {"yaml", "toml", "json", "ini", "xml", "dockerfile", "makefile", "cmake", "hcl"}
        ),
    ),
    _RoleRule("docs", names=re.compile(r"(?i:readme|authors|contributors)(?:\..*)?")),
    # Files that hold a package's documentation alone, by convention: Java's package-info.java
    # (a Javadoc block over `package x;`), Go's doc.go (the package comment).
    _RoleRule("docs", names=_names(r"package-info\.java", r"doc\.go")),
    _RoleRule("docs", languages=PROSE_LANGUAGES),
)


def file_role(path: str) -> str:
    """What the file at ``path`` (workspace-relative) is for: one of FILE_ROLES.

    Judged from path conventions alone (folders such as tests/, docs/, vendor/; names such as
    test_*.py, *_test.go, *.spec.ts, CHANGELOG.md, LICENSE, *_pb2.py), never from content
    (code that says a tool wrote it, and a test module its path does not name, are told
    apart when indexed: chunker.content_role)."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    folders = {p.lower() for p in parts[:-1]}
    language = detect_language(path)
    prose = language is None or language in PROSE_LANGUAGES
    for rule in _ROLE_RULES:
        if rule.prose_only and not prose:
            continue
        if (
            not folders.isdisjoint(rule.folders)
            or (rule.names is not None and rule.names.fullmatch(name))
            or language in rule.languages
        ):
            return rule.role
    return "code"
