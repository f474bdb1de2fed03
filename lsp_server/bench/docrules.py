"""What counts as a documented definition, per language, for in-place sets (data only).

The algorithm that reads these tables is in `inplace.py`. A definition is a callable with a
body (CodeSearchNet's unit); its documentation is either a docstring (the first statement of
its body) or the doc comment right above it (no blank line between).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DocRules:
    # Node types that are callable definitions on their own.
    definitions: frozenset[str]
    # "docstring": the body's first string statement; "comment": the comment(s) above.
    style: str = "comment"
    # Statements that define a callable when a function node sits within `reach` levels of
    # them: `exports.x = function`, `const f = () => ...`, `defineGetter(req, 'x', function)`.
    containers: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    reach: int = 3
    # Blank lines allowed between a block doc comment and its definition (express writes one).
    block_gap: int = 0
    # Parents that belong to the definition (decorators, `export`): the doc sits above them.
    wrappers: frozenset[str] = frozenset()
    # Siblings allowed between the doc comment and the definition (attributes, decorators).
    between: frozenset[str] = frozenset()
    # Such a sibling that is itself documentation (Rust's `#[cfg_attr(feature = "help", doc =
    # " ```")]` inside clap's doc comments): the doc goes on above it, one doc with it.
    doc_attribute: re.Pattern[str] | None = None
    comments: frozenset[str] = frozenset({"comment"})
    # Doc comment openers; a block opener ("/**") is one comment, a line opener ("///") a run
    # of adjacent line comments. Openers in `not_markers` ("////", "/***") are not docs.
    block_markers: tuple[str, ...] = ()
    line_markers: tuple[str, ...] = ()
    not_markers: tuple[str, ...] = ()
    # Comment lines that are tool directives, not prose: a doc holding one is not sampled
    # (removing it would change the build).
    directives: tuple[str, ...] = ()
    # Bodies opened after the comments above their first statement (Ruby's
    # `body_statement`): a first method's doc is the sibling of its body, not its own.
    hoisted_bodies: frozenset[str] = frozenset()
    # Modules whose names mark in-file tests (Rust's `mod tests`).
    test_modules: frozenset[str] = frozenset()


_JS_FUNCTIONS = frozenset(
    {"function_expression", "function", "arrow_function", "generator_function"}
)
_JS_CONTAINERS = frozenset(
    {
        "expression_statement",
        "lexical_declaration",
        "variable_declaration",
        "pair",
        "field_definition",
        "public_field_definition",
    }
)
_JS = DocRules(
    definitions=frozenset(
        {"function_declaration", "generator_function_declaration", "method_definition"}
    ),
    containers=_JS_CONTAINERS,
    functions=_JS_FUNCTIONS,
    wrappers=frozenset({"export_statement"}),
    between=frozenset({"decorator"}),
    block_markers=("/**",),
    block_gap=1,
    not_markers=("/***",),
    directives=("eslint", "istanbul", "@ts-", "prettier-ignore", "jshint", "global "),
)
_C_DOXYGEN = DocRules(
    definitions=frozenset({"function_definition"}),
    wrappers=frozenset({"template_declaration"}),  # the doc is above `template <...>`
    block_markers=("/**", "/*!"),
    line_markers=("///", "//!"),
    not_markers=("/***", "////"),
)

RULES: dict[str, DocRules] = {
    "python": DocRules(
        definitions=frozenset({"function_definition"}),
        style="docstring",
        wrappers=frozenset({"decorated_definition"}),
    ),
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "go": DocRules(
        definitions=frozenset({"function_declaration", "method_declaration"}),
        line_markers=("//",),
        directives=("//go:", "//nolint", "//lint:", "// +build", "//export "),
    ),
    "rust": DocRules(
        definitions=frozenset({"function_item"}),
        between=frozenset({"attribute_item"}),
        doc_attribute=re.compile(r"#\[\s*(?:doc\s*=|cfg_attr\s*\(.*\bdoc\s*=)", re.S),
        comments=frozenset({"line_comment", "block_comment"}),
        block_markers=("/**",),
        line_markers=("///",),
        not_markers=("////", "/***"),
        test_modules=frozenset({"tests", "test"}),
    ),
    "java": DocRules(
        # Constructors are left out, as in CodeSearchNet ("Constructs a new ..." boilerplate).
        definitions=frozenset({"method_declaration"}),
        comments=frozenset({"block_comment", "line_comment"}),
        block_markers=("/**",),
        not_markers=("/***",),
        block_gap=1,
    ),
    # C documents a function with the plain comment right above it (Lua, Redis, SQLite,
    # git), more often than with Doxygen's markers; a `/***` banner is not a doc.
    "c": DocRules(
        definitions=frozenset({"function_definition"}),
        block_markers=("/**", "/*!", "/*"),
        line_markers=("///", "//!", "//"),
        not_markers=("/***", "////"),
    ),
    "cpp": _C_DOXYGEN,
    "php": DocRules(
        definitions=frozenset({"function_definition", "method_declaration"}),
        between=frozenset({"attribute_list"}),
        block_markers=("/**",),
        not_markers=("/***",),
    ),
    # C#'s XML doc comments (`/// <summary>`); constructors are left out, as in Java.
    # Properties and indexers are asked too: C# documents them as it does methods, and they
    # are units (chunker 19).
    "csharp": DocRules(
        definitions=frozenset(
            {
                "method_declaration",
                "local_function_statement",
                "property_declaration",
                "indexer_declaration",
            }
        ),
        between=frozenset({"attribute_list"}),
        line_markers=("///",),
        not_markers=("////",),
    ),
    # KDoc, above a function's annotations and modifiers (which its node holds);
    # constructors are left out, as in Java.
    "kotlin": DocRules(
        definitions=frozenset({"function_declaration"}),
        comments=frozenset({"block_comment", "line_comment"}),
        block_markers=("/**",),
        not_markers=("/***",),
    ),
    # Swift's `///` lines (Xcode's Quick Help) or a `/** */` block.
    "swift": DocRules(
        definitions=frozenset({"function_declaration"}),
        comments=frozenset({"comment", "multiline_comment"}),
        block_markers=("/**",),
        line_markers=("///",),
        not_markers=("////", "/***"),
        directives=("// swiftlint:", "/// - Tag:"),
    ),
    # Ruby's docs (RDoc, YARD) are the run of `#` lines right above a method.
    "ruby": DocRules(
        definitions=frozenset({"method", "singleton_method"}),
        line_markers=("#",),
        not_markers=("#!", "#--", "# frozen_string_literal", "# -*-"),
        directives=("# :nodoc:", "# rubocop:"),
        hoisted_bodies=frozenset({"body_statement"}),
    ),
}

# Paths whose definitions are never sampled (tests, examples, vendored and generated code):
# their docs stay, and they stay in the tree as distractors.
NOT_SAMPLED = re.compile(
    r"(^|/)(tests?|testing|__tests__|spec|specs|testdata|fixtures?|examples?|benches|"
    r"benchmarks?|vendor|third_party|node_modules|dist|build|docs?|__stories__)/"
    r"|(^|/)(test_[^/]*|[^/]*_test\.\w+|[^/]*\.(test|spec|stories|story)\.\w+|conftest\.py)$"
)
# The engine's file roles (languages.file_role) of files never sampled either, whatever
# their path: `KPRes.Generated.cs`, `MainForm.Designer.cs`, `zz_generated.deepcopy.go`.
NEVER_SAMPLED_ROLES = frozenset({"generated", "vendored"})

# CodeSearchNet-style query rules.
MIN_QUERY_WORDS = 3
# Sentences that are not a description of what the code does.
BOILERPLATE = re.compile(
    r"^(deprecated|@deprecated|todo|to do\b|fixme|xxx|hack|see\b|@see|\{@inheritdoc\}|inheritdoc|"
    r"copyright|licensed|generated|auto-?generated|do not edit|nolint|internal use only)",
    re.IGNORECASE,
)
# "Returns the name.", C#'s "Gets or sets the value." and the like: a getter's name said
# again, not a description.
SHORT_ACCESSOR = re.compile(
    r"^(returns?|gets?|sets?)( or sets?)? (the|a|an) \S+(\s+\S+)?[.]?$", re.I
)
# Methods whose docs are inherited boilerplate (CodeSearchNet dropped them too).
SKIPPED_NAMES = re.compile(r"^(__\w+__|toString|equals|hashCode|String|Error|fmt|clone)$")
