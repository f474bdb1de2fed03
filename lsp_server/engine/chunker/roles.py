"""The role a file's content gives it beyond its path's (languages.file_role): code a tool
wrote, or tests that sit beside the code they test under a name no path rule reads."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..chunks import Chunk
from ..language_specs import SPECS
from .commentary import DOCSTRING_HEAD, marked_generated

# Which rules judged the files stored in an index by their content (Store.
# content_roles_outdated): bump when content_role would judge a file otherwise, or another
# file would be left out by its content, so that indexes read their files again.
# 2: Python test modules by their classes and functions (is_test_module).
# 3: minified files are left out (scanner.is_minified).
CONTENT_ROLES = "3"


def content_role(path_role: str, text: str, language: str, chunks: Iterable[Chunk]) -> str:
    """The role of a file whose path gives it `path_role`, by its text and the chunks cut
    from it: "generated" for code marked as a tool's output, "test" for a test module, ""
    where the path's role stands (and for every file whose path gives it another role)."""
    if path_role != "code":
        return ""
    if marked_generated(text, language):
        return "generated"
    return "test" if is_test_module(chunks, language) else ""


def is_test_module(chunks: Iterable[Chunk], language: str) -> bool:
    """Whether a file's definitions make it a test module (LanguageSpec.test_class_header,
    test_function, test_framework): Django's `tests.py` (`class GitHubTests(OAuth2TestsMixin,
    TestCase)`, which defines no test of its own), pytest's `def test_acs(client, db)` beside
    `import pytest`. Read from the chunks, so that an example in a docstring says nothing."""
    spec = SPECS.get(language)
    if spec is None:
        return False
    header, function, framework = spec.test_class_header, spec.test_function, spec.test_framework
    if header is None and (function is None or framework is None):
        return False  # a language without these rules: every chunk would be read for nothing
    tests = imports = False
    for chunk in chunks:
        if chunk.container or chunk.part > 1:
            continue
        if chunk.kind == "class" and header is not None and header.search(chunk.signature):
            return True
        if chunk.kind == "function" and function is not None:
            tests = tests or function.fullmatch(chunk.symbol) is not None
        if chunk.kind in ("imports", "block") and framework is not None:
            imports = imports or _imports_framework(chunk.text, framework)
    return tests and imports


def _imports_framework(text: str, framework: re.Pattern[str]) -> bool:
    """Whether code imports a test framework: past the module's docstring that opens it
    (kept with the imports below it), whose example may quote `import pytest`."""
    docstring = DOCSTRING_HEAD.match(text)
    return framework.search(text, docstring.end() if docstring else 0) is not None
