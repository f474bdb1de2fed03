"""Which language a file is written in, judged from its name alone (no content sniffing)."""

from __future__ import annotations

import importlib.util
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
}

TREE_SITTER_LANGUAGES: frozenset[str] = frozenset(GRAMMAR_MODULES)

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
