"""Which chunker cut an index: its version, and a hash of the code that decides the cuts."""

from __future__ import annotations

import hashlib
from pathlib import Path

# Bump when the same file would be cut into other chunks: an index made by another version
# re-chunks every file on its next sync (vectors of unchanged chunk texts stay cached).
# 5: code between definitions cut between statements, imports apart; 6: a Rust impl for a
# reference type is named by the type (`&'a mut Deserializer<R>` -> Deserializer); 7: Python
# `@overload` stubs are one unit with their definition, Rust `macro_rules!` are definitions,
# signatures leave comments out; 8: top-level `@overload` stubs two blank lines apart too;
# 9: JavaScript functions behind a guard (`export default ok && function () {}`) are
# definitions, anonymous default exports are named by their module, Python's
# `if __name__ == "__main__":` is one unit (kind "script"); 10: JavaScript/TypeScript test
# calls are units named by their title (`describe` a class, `it`/`test` its methods); 11:
# JavaScript/TypeScript routes (`app.get('/users', (req, res) => {})`) are units (`GET /users`);
# 12: code between definitions is named by the names it declares (`DEFAULT_LIMITS, ...`);
# 13: a comment right above a statement between definitions stays in its window; 14: Java
# interface and abstract methods (no body) are units with their Javadoc; 15: a C function
# with a syntax error inside stays one unit when its header spans lines (BSD/GNU style),
# `LUA_API type name(...)` is named `name`, PHP interface and abstract methods are units,
# a Ruby class's first method keeps the comments above it; 16: C++ `friend` belongs to its
# function, a C/C++ "definition" named by a keyword (a macro misread) is none; 17: a C++
# function is named past a macro that split its header (`localtime_r FMT_NOMACRO` is
# `localtime_r`), a conversion operator `operator bool` (was `operator bool() const`); 18:
# code between PHP definitions is also named by the properties it declares (17 labelled the
# chunks of C++ in a `.h` file C++; 18 labels them C again, as before 17); 19: C# properties,
# indexers and events with code in their accessors are units (were their class's header),
# auto-properties name the code between definitions; 20: a JavaScript/TypeScript function
# that a call wraps (`const Select = forwardRef((props, ref) => {...})`, `memo(...)`,
# `debounce(...)`) is a unit named by the declaration, assignment or class field holding it,
# or as a default export is named (`export default memo(function Sidebar() {...})`); 21: a
# signature leaves out the annotations a modifier list holds (Java's `@Override boolean
# accept(File f);` was `@Override`), and text of structure lines alone (Ruby's `end`, a
# `private` marker, `#else`) is indexed as no chunk (commentary.says_something); 22: a Rust
# test module (`mod tests { ... }`) contains its members as a class does (`tests.parser`);
# 23: a header's `#pragma once` is structure (alone, no chunk); 24: Python's imports for type
# checkers (`if TYPE_CHECKING:` holding imports alone) are imports, in the run beside them;
# 25: they do not count toward a run's length (2 imports and a guard stay with the code after);
# 26: in JavaScript, TypeScript and Python a function larger than a chunk holds the
# definitions in it as units of their own (`enablePatches.applyPatches_`), its own code in parts;
# 27: so does Rust's (serde's `fn deserialize` holds `ValueVisitor.visit_map`), not a `#[test]`;
# code outside every such function is cut as in a file without one (a class's `}` joins the
# code after it again); 28: C and C++ code between definitions is cut between the statements
# that an include guard, an `#if` group, `extern "C" {}` or a namespace holds (a header of
# macros was one statement, cut every 40 lines, a comment apart from its macro), Go's
# between the declarations of a `const (` or `var (` group; a C header's include guard
# declares no name; 29: a C++ class's data members name the code between its definitions;
# 30: so do the attributes Ruby's `attr_reader`, `attr_writer` and `attr_accessor` declare,
# and C#'s events declared as fields; 31: a C++ class with an export macro before its name
# (`class SPDLOG_API logger {`) is a class and its methods units (was a function cut in parts),
# as is a Qt class (`Q_OBJECT`, `public slots:`, `signals:` are left out of the parse); 32: a
# C/C++ macro alone on its line that opens or closes a scope (`FMT_BEGIN_NAMESPACE`,
# `G_BEGIN_DECLS`) is left out of the parse too, a statement of its own between definitions
# and structure (alone, no chunk); a `template <...>` line whose parameters a macro broke
# stays with the function under it (was a block apart); 33: a Ruby attribute declared by a
# plain string (`attr_accessor 'nickname'`) is a name, as one declared by a symbol; 34: a Vue or
# Svelte component's `<script>` is chunked by its grammar (was windows of lines), its `<style>`
# and markup by lines apart (the markup one unit of windows of half a chunk); 35: a property
# whose object holds one function beside values that describe it (Vue's `getOptionKey: {
# type: Function, default(option) {} }`) is that function's unit, with its doc comment; 36:
# Kotlin and Swift are chunked by their grammars (were windows of lines); 37: Astro components
# (were not indexed): their frontmatter and scripts as TypeScript, the rest as markup; 38: a
# native module's members declared in the Expo Modules DSL (`AsyncFunction("takePicture") {}`
# in Kotlin and Swift) are units of their own (were parts of the module's `definition()`); 39:
# Swift's Quick suites and tests (`describe("Either") { it("is the first type") {} }`) are
# units named by their titles, as JavaScript's are (were parts of `spec()`); 40: a Swift `try`
# that opens an `if let`'s value is left out of the parse (the grammar read `if let r = try?
# a?.runtime {` as a call given a closure, and lost the class around it); 41: an Expo module's
# lifecycle listeners and a class's `Constructor` (`OnCreate { ... }`) are units named by
# their callee (were `definition()`'s own code); 42: a Kotlin `Property("volume").get { }.set
# { }` is one unit named by its title (was the module's own code)
CHUNKER_VERSION = 42


def _source_fingerprint() -> str:
    """A hash of the source files that decide how a file is cut, beside CHUNKER_VERSION: an
    index made by other chunking code re-chunks even when the version was not bumped (a
    forgotten bump, or a development tree between two versions). They are this package's
    modules and the engine's language tables."""
    package = Path(__file__).parent
    sources = [*sorted(package.glob("*.py")), *(package.parent / name for name in _LANGUAGE_TABLES)]
    digest = hashlib.blake2b(digest_size=8)
    for source in sources:
        try:
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
        except OSError:  # no source beside the module (a frozen build): the version decides
            return ""
    return digest.hexdigest()


_LANGUAGE_TABLES = ("language_specs.py", "languages.py")
CHUNKER_CODE = _source_fingerprint()
