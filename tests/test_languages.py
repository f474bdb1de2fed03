"""Language detection from file names."""

from __future__ import annotations

import pytest

from lsp_server.engine.languages import TREE_SITTER_LANGUAGES, detect_language, has_grammar


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/app.py", "python"),
        ("stubs/os.pyi", "python"),
        ("web/index.js", "javascript"),
        ("web/esm.mjs", "javascript"),
        ("web/common.cjs", "javascript"),
        ("web/App.jsx", "javascript"),
        ("web/app.ts", "typescript"),
        ("web/app.mts", "typescript"),
        ("web/app.cts", "typescript"),
        ("types/index.d.ts", "typescript"),
        ("web/App.tsx", "tsx"),
        ("cmd/main.go", "go"),
        ("src/lib.rs", "rust"),
        ("src/Main.java", "java"),
        ("src/main.c", "c"),
        ("include/util.h", "c"),
        ("src/main.cc", "cpp"),
        ("src/main.cpp", "cpp"),
        ("src/main.cxx", "cpp"),
        ("include/util.hpp", "cpp"),
        ("include/util.hh", "cpp"),
        ("include/util.hxx", "cpp"),
        ("src/Program.cs", "csharp"),
        ("lib/thing.rb", "ruby"),
        ("Rakefile", "ruby"),
        ("Gemfile", "ruby"),
        ("web/index.php", "php"),
        ("README.md", "markdown"),
        ("docs/guide.markdown", "markdown"),
        ("ci.yml", "yaml"),
        ("ci.yaml", "yaml"),
        ("pyproject.toml", "toml"),
        ("package.json", "json"),
        ("run.sh", "shell"),
        ("run.bash", "shell"),
        ("run.zsh", "shell"),
        ("schema.sql", "sql"),
        ("index.html", "html"),
        ("style.css", "css"),
        ("style.scss", "scss"),
        ("App.kt", "kotlin"),
        ("App.swift", "swift"),
        ("App.scala", "scala"),
        ("init.lua", "lua"),
        ("analysis.R", "r"),
        ("Dockerfile", "dockerfile"),
        ("build/Dockerfile.dev", "dockerfile"),
        ("app.dockerfile", "dockerfile"),
        ("Makefile", "makefile"),
        ("rules.mk", "makefile"),
        ("pom.xml", "xml"),
        ("setup.cfg", "ini"),
        ("tox.ini", "ini"),
        ("notes.txt", "text"),
        ("docs/index.rst", "text"),
        ("App.vue", "vue"),
        ("App.svelte", "svelte"),
    ],
)
def test_detects_language(path: str, language: str) -> None:
    assert detect_language(path) == language


@pytest.mark.parametrize(
    "path",
    [
        "image.png",
        "archive.tar.gz",
        "binary.exe",
        "noextension",
        ".env",
        "dir/",
        "",
        "web/vendor.min.js",
        "web/site.min.css",
        "package-lock.json",
        "pnpm-lock.yaml",
    ],
)
def test_unindexed_files_are_none(path: str) -> None:
    assert detect_language(path) is None


def test_case_and_separators() -> None:
    assert detect_language("SRC/APP.PY") == "python"
    assert detect_language("C:\\work\\proj\\main.GO") == "go"
    assert detect_language("sub/dir/MAKEFILE") == "makefile"
    assert detect_language("a.b.c/file.rs") == "rust"


def test_grammar_languages() -> None:
    assert set(TREE_SITTER_LANGUAGES) == {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "csharp",
        "ruby",
        "php",
    }
    for language in TREE_SITTER_LANGUAGES:
        assert has_grammar(language), language
    for language in ("markdown", "yaml", "kotlin", "text", "nope"):
        assert not has_grammar(language)


def test_every_grammar_language_is_detectable() -> None:
    samples = {
        "python": "a.py",
        "javascript": "a.js",
        "typescript": "a.ts",
        "tsx": "a.tsx",
        "go": "a.go",
        "rust": "a.rs",
        "java": "A.java",
        "c": "a.c",
        "cpp": "a.cpp",
        "csharp": "a.cs",
        "ruby": "a.rb",
        "php": "a.php",
    }
    assert set(samples) == TREE_SITTER_LANGUAGES
    for language, path in samples.items():
        assert detect_language(path) == language
