"""Language detection and file roles from file names (and the role content gives code)."""

from __future__ import annotations

import pytest

from lsp_server.engine.chunker import chunk_text, content_role
from lsp_server.engine.languages import (
    FILE_ROLES,
    TREE_SITTER_LANGUAGES,
    detect_language,
    file_role,
    has_grammar,
)


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
        ("src/pages/index.astro", "astro"),
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
        "kotlin",
        "swift",
    }
    for language in TREE_SITTER_LANGUAGES:
        assert has_grammar(language), language
    for language in ("markdown", "yaml", "scala", "text", "nope"):
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
        "kotlin": "a.kt",
        "swift": "a.swift",
    }
    assert set(samples) == TREE_SITTER_LANGUAGES
    for language, path in samples.items():
        assert detect_language(path) == language


ROLE_CASES = [
    ("typings/index.d.ts", "declarations"),
    ("src/stubs/os.pyi", "declarations"),
    ("proto/api_pb2.pyi", "generated"),
    ("src/components/menu/_menu.scss", "style"),
    ("static/site.css", "style"),
    ("themes/base.less", "style"),
    ("docs/_static/custom.css", "docs"),  # the documentation's own look
    ("dist/app.min.css", "generated"),
    # code
    ("src/app.py", "code"),
    ("lib/router/index.js", "code"),
    ("src/main/java/org/app/Latest.java", "code"),  # ends in "test", is not a test
    ("src/main/java/org/app/Edit.java", "code"),  # ends in "it", is not an IT
    ("src/contest.py", "code"),
    ("src/license.py", "code"),  # source code named like a licence
    ("lib/history.js", "code"),
    ("cmd/releases/main.go", "code"),
    # tests, by folder and by name, across languages
    ("tests/test_client.py", "test"),
    ("test_client.py", "test"),
    ("pkg/client_test.py", "test"),
    ("tests/conftest.py", "test"),
    ("pkg/server_test.go", "test"),
    ("web/button.test.js", "test"),
    ("web/button.spec.ts", "test"),
    ("web/button.test.tsx", "test"),
    ("web/__tests__/button.js", "test"),
    ("src/test/java/org/app/UserServiceTest.java", "test"),
    ("app/UserServiceTests.cs", "test"),
    ("spec/models/user_spec.rb", "test"),
    ("crate/tests/integration.rs", "test"),
    ("pkg/testdata/input.json", "test"),
    # docs
    ("README.md", "docs"),
    ("docs/guide.rst", "docs"),
    ("docs/conf.py", "docs"),
    ("notes.txt", "docs"),
    ("src/main/java/org/jsoup/select/package-info.java", "docs"),  # a package's Javadoc alone
    ("middleware/doc.go", "docs"),  # Go's package comment
    ("src/main/java/org/jsoup/select/Selector.java", "code"),
    ("docgen.go", "code"),
    # changelogs
    ("CHANGELOG.md", "changelog"),
    ("HISTORY.md", "changelog"),
    ("History.md", "changelog"),
    ("NEWS", "changelog"),
    ("RELEASES.md", "changelog"),
    ("docs/releases/5.1.txt", "changelog"),
    ("changelog.d/1234.feature.md", "changelog"),
    # benchmarks drive the code as tests do
    ("benches/bench1.rs", "test"),
    ("benchmarks/benchmarks.py", "test"),
    ("bench/router.js", "test"),
    ("src/benchmark.rs", "code"),  # a file named so is not a folder of them
    # licences
    ("LICENSE", "license"),
    ("LICENCE.txt", "license"),
    ("LICENSE-MIT", "license"),
    ("COPYING", "license"),
    ("NOTICE", "license"),
    # examples
    ("examples/hello/main.go", "example"),
    ("example/app.js", "example"),
    ("samples/Demo.java", "example"),
    # Storybook's stories beside their components; its settings; data beside stories is code
    ("src/components/Button/Button.stories.tsx", "example"),
    ("es6/components/Button/stories/Busy.stories.js", "example"),
    ("packages/core/src/Button/Button.story.tsx", "example"),
    ("src/Dialog/Dialog.stories.mdx", "example"),
    ("src/Select.stories.svelte", "example"),
    ("src/__stories__/Menu.tsx", "example"),
    (".storybook/preview.tsx", "config"),
    ("es6/components/DataTable/stories/data.js", "code"),
    ("src/history/story.py", "code"),  # a module about stories
    # generated
    ("proto/service_pb2.py", "generated"),
    ("proto/service_pb2_grpc.py", "generated"),
    ("api/service.pb.go", "generated"),
    ("ui/schema.generated.ts", "generated"),
    ("models/user.g.dart", "generated"),
    ("Forms/Main.Designer.cs", "generated"),
    ("yarn.lock", "generated"),
    # vendored, whatever else they look like
    ("vendor/github.com/pkg/errors/errors.go", "vendored"),
    ("vendor/github.com/pkg/errors/errors_test.go", "vendored"),
    ("node_modules/lodash/index.js", "vendored"),
    ("src/third_party/zlib/inflate.c", "vendored"),
    # config
    ("package.json", "config"),
    ("pyproject.toml", "config"),
    ("setup.cfg", "config"),
    ("Cargo.toml", "config"),
    ("go.mod", "config"),
    ("pom.xml", "config"),
    ("Makefile", "config"),
    ("Dockerfile", "config"),
    ("requirements-dev.txt", "config"),
    ("webpack.config.js", "config"),
    (".eslintrc.json", "config"),
    (".github/workflows/ci.yml", "config"),
    ("src/main/resources/application.properties", "config"),
    # Windows separators
    ("tests\\unit\\test_a.py", "test"),
]


@pytest.mark.parametrize(("path", "role"), ROLE_CASES)
def test_file_role(path: str, role: str) -> None:
    assert file_role(path) == role


def test_every_file_role_is_reachable() -> None:
    assert {role for _, role in ROLE_CASES} == set(FILE_ROLES)


# The opening comments of real generators' output (and of files that only look so), with
# the role the file's content gives code at that path ("": its path's role stands).
CONTENT_ROLE_CASES = [
    # Go's convention, after a licence header (google/go-github's accessors)
    (
        "github/github-accessors.go",
        "go",
        "// Copyright 2017 The go-github AUTHORS. All rights reserved.\n//\n"
        "// Use of this source code is governed by a BSD-style\n\n"
        "// Code generated by gen-accessors; DO NOT EDIT.\n"
        "// Instead, please run \"go generate ./...\".\n\npackage github\n",
        "generated",
    ),
    # a block comment in capitals (stretchr/testify's require package)
    (
        "require/require.go",
        "go",
        "/*\n* CODE GENERATED AUTOMATICALLY WITH github.com/stretchr/testify/_codegen\n"
        "* THIS FILE MUST NOT BE EDITED BY HAND\n */\n\npackage require\n",
        "generated",
    ),
    # Meta's tag, in React Native's codegen output
    (
        "android/src/paper/java/com/x/ViewManagerDelegate.java",
        "java",
        "/**\n * This code was generated by react-native-codegen.\n *\n"
        " * @generated by codegen project: GeneratePropsJavaDelegate.js\n */\n\n"
        "package com.x;\n",
        "generated",
    ),
    # .NET's tag
    (
        "Properties/Strings.cs",
        "csharp",
        "// <auto-generated>\n//     This code was generated by a tool.\n"
        "// </auto-generated>\nnamespace App { }\n",
        "generated",
    ),
    # a module docstring after a shebang
    (
        "api/client.py",
        "python",
        '#!/usr/bin/env python\n"""Generated by openapi-gen. Do not edit by hand."""\n'
        "import json\n",
        "generated",
    ),
    # Django migrations: made by a tool, written into by people, and not marked "do not edit"
    (
        "shop/migrations/0002_order.py",
        "python",
        "# Generated by Django 4.2 on 2024-01-01 12:00\n\nfrom django.db import migrations\n",
        "",
    ),
    # a generator's own source: its template of the notice is below code
    (
        "gen-accessors.go",
        "go",
        "//go:build ignore\n\npackage main\n\nconst header = `\n"
        "// Code generated by gen-accessors; DO NOT EDIT.\n`\n",
        "",
    ),
    # a doc comment that mentions generated code
    (
        "suite/interfaces.go",
        "go",
        "// Package suite holds the methods generated by 'go test' for a suite.\npackage suite\n",
        "",
    ),
    # a test file stays a test, however it was made
    (
        "tests/expectdata/testsample_run.c",
        "c",
        "/* AUTOGENERATED FILE. DO NOT EDIT. */\n#include <stdio.h>\n",
        "",
    ),
    # Django's tests.py beside its app: a TestCase whose tests a mixin defines
    (
        "allauth/socialaccount/providers/github/tests.py",
        "python",
        "from allauth.socialaccount.tests import OAuth2TestsMixin\n"
        "from allauth.tests import MockedResponse, TestCase\n\n\n"
        "class GitHubTests(OAuth2TestsMixin, TestCase):\n"
        "    provider_id = 'github'\n\n"
        "    def get_mocked_response(self):\n        return MockedResponse(200, '{}')\n",
        "test",
    ),
    # a header over lines, the base named through its module
    (
        "shop/checks.py",
        "python",
        "import unittest\n\n\nclass OrderChecks(\n    Mixin,\n    unittest.TestCase,\n):\n"
        "    def test_total(self):\n        self.assertEqual(1, 1)\n",
        "test",
    ),
    # pytest's functions beside its import
    (
        "shop/checks.py",
        "python",
        "import pytest\n\nfrom shop import total\n\n\n@pytest.mark.parametrize('n', [1, 2])\n"
        "def test_total(n):\n    assert total(n) == n\n",
        "test",
    ),
    # Jinja2's template tests: `test_*` functions, no test framework
    (
        "src/jinja2/tests.py",
        "python",
        "import typing as t\nfrom numbers import Number\n\n\n"
        "def test_odd(value: int) -> bool:\n    return value % 2 == 1\n",
        "",
    ),
    # a library's class named like a test case, its base not one; pytest's import in an example
    (
        "src/_pytest/unittest.py",
        "python",
        '"""Discover tests.\n\nimport pytest\n\ndef test_function():\n    pass\n"""\n'
        "import sys\n\n\nclass TestCaseFunction(Function):\n    pass\n\n\n"
        "def test_discovery(config):\n    return config\n",
        "",
    ),
    # a TestCase in a string is no class
    (
        "tools/template.py",
        "python",
        'TEMPLATE = """\nclass Generated(TestCase):\n    pass\n"""\n',
        "",
    ),
    # a test module a tool wrote is generated
    (
        "api/checks.py",
        "python",
        '"""Generated by openapi-gen. Do not edit by hand."""\nimport unittest\n\n\n'
        "class ApiChecks(unittest.TestCase):\n    pass\n",
        "generated",
    ),
]


@pytest.mark.parametrize(("path", "language", "text", "role"), CONTENT_ROLE_CASES)
def test_content_role(path: str, language: str, text: str, role: str) -> None:
    chunks = chunk_text(path, text, language)
    assert content_role(file_role(path), text, language, chunks) == role
