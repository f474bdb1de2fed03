"""Engine settings: one typed object shared by the CLI, the server and the benchmarks."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, fields
from pathlib import Path

from .locations import Manifest, index_dir_for

DEFAULT_MAX_FILE_SIZE = 1 << 20  # 1 MiB: larger files are nearly always generated or data

# The `adapter` setting's words besides a file path (engine/adapter.py).
DEFAULT_ADAPTER = "default"  # the adapter shipped in the package, for the bundled model
NO_ADAPTER = "none"

PROVIDER_LOCAL = "local"
PROVIDER_OPENAI = "openai-compatible"
PROVIDERS = (PROVIDER_LOCAL, PROVIDER_OPENAI)


@dataclass(frozen=True)
class EmbeddingsProvider:
    """Where chunk and query vectors come from: the bundled model on this machine (default)
    or an OpenAI-compatible `POST {url}/embeddings` server (Ollama, TEI, vLLM, infinity...).

    With a server, the text of every chunk and every query is sent to `url`.
    """

    provider: str = PROVIDER_LOCAL
    url: str = ""  # base URL, e.g. http://gpu-box:8080/v1 (".../embeddings" is appended)
    model: str = ""  # the model name the server serves
    dimensions: int | None = None  # asked of the server (matryoshka models) and checked
    batch_size: int = 64  # texts per request; halved when the server says it is too many
    max_concurrency: int = 4  # requests in flight at once
    timeout_ms: int = 30_000  # per request
    # The NAME of an environment variable that holds the API key: the key itself never
    # appears in settings, the index or logs.
    api_key_env: str = ""

    @property
    def remote(self) -> bool:
        return self.provider != PROVIDER_LOCAL


@dataclass(frozen=True)
class EngineSettings:
    # A sentence-transformers model name or local path; None means the bundled default model.
    model: str | None = None
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    # Which of the two an editor's settings chose (SCOPE_FIELDS), recorded with them: an
    # editor whose setting is later removed goes back to the default, not to its own old
    # choice, while one that never set it keeps what `nearcode index` was given.
    scope_from_editor: frozenset[str] = frozenset()
    # Chunks are cut to roughly what the model sees (256 word pieces ~ 1,000 characters of code).
    chunk_chars: int = 1200
    # Prefix each embedded chunk with path, container and signature (measured in BENCHMARKS.md).
    context_header: bool = True
    # Fusion of the dense and lexical (BM25) rankings. "convex": a weighted sum of the scores,
    # each divided by its ranking's best, so a lexical match that stands far above the rest
    # (a rare identifier) counts, and a diffuse one (common words) barely moves the order;
    # "rrf": reciprocal rank fusion, which keeps ranks only (the fusion before 0.2). Code
    # queries (similar code, selections, identifiers) and questions in words weigh BM25
    # differently: shared identifiers say much about code-to-code likeness, little about a
    # question. Measured on whole real trees, CoSQA and leetcode: BENCHMARKS.md.
    fusion: str = "convex"
    dense_weight: float = 1.0
    lexical_weight: float = 2.0  # for code queries: selections searched, code typed
    # For find similar (a definition or a range of the workspace's code as the query): the
    # adapted model ranks other code well by itself, and BM25 mostly adds shared helper and
    # method names. Of 0-3, 0.5 was best on half of leetcode's problems for the shipped and
    # the bare model, and within 0.002 of the best on the other half (BENCHMARKS.md).
    similar_lexical_weight: float = 0.5
    # For find similar on a class: the query is the whole class (its members pooled), and
    # classes of one kind override the same methods, so the names BM25 matches count for
    # more than between two definitions. Of 0.5-4, 1 was best on leetcode (its questions
    # are classes) and within 0.007 of the best (2) on the class sets (BENCHMARKS.md).
    class_lexical_weight: float = 1.0
    # For natural-language queries: BM25's weight, times its coverage of the question to the
    # power `prose_lexical_coverage` (0: a constant weight; until 2026-12-04, 0.2 constant).
    # Coverage is the best unit's BM25 score over the sum of each word's best score alone:
    # near 1 when one unit holds the question's words together, small when the best shares
    # only a word or two with it, whose match says little about the question (the
    # theoretical-maximum scaling of Bruch et al., "An Analysis of Fusion Functions for Hybrid
    # Retrieval"). 0.6 and 2, against a constant 0.2: CoSQA 0.5207 -> 0.5285, express 0.797
    # -> 0.820 (BENCHMARKS.md, "BM25 weighed by how much of the question it covers"). 1.5
    # since 2026-12-06: on 569 hand-written questions in 31 sets +0.005 [+0.001, +0.011],
    # whole-tree doc sets +0.001, CoSQA -0.001 (1 gains more on the questions, but costs
    # CoSQA 0.007; BENCHMARKS.md, "BM25's weight for a question, weighed again").
    prose_lexical_weight: float = 0.6
    prose_lexical_coverage: float = 1.5
    # For a question that names an identifier ("where is parseArgs called", Go's
    # "NewRouter returns ..."): the name is an exact-match signal that BM25 weighs and the
    # model blurs. None: the prose weight. 1.0 against 0.5/2 on the tuning sets (BENCHMARKS.md).
    named_lexical_weight: float | None = 1.0
    # A typed query that is one identifier (`DEFAULT_LIMITS`, `Client.send`) asks for what is
    # named so, as an editor's symbol search does: the code named exactly so (a definition,
    # a member, a block that declares it, a class header chunked apart from its members, which
    # code queries otherwise leave out) comes first, the implementation's before a test's or
    # an example's, then in fused order (BENCHMARKS.md).
    exact_names: bool = True
    # A typed query that reads as a sentence is a question even when it holds brackets or
    # inline code ("Proxy `Router#use()` to add middleware"): prose weights, not code's.
    sentences_are_prose: bool = True
    rrf_k: int = 10  # the rank offset of "rrf" (k=10 beat 60 in the BEIR runs)
    # Candidates taken from each ranking before fusion (benchmarks rank deeper, e.g. 1000).
    # A unit outside one ranking's pool is fused without that ranking's score: 200 gave
    # the editor nearly the benchmarks' ranking (100 lost up to 0.016 MRR a set; 300 gave
    # no more, for a third more ranking work) for about 2 ms a query on a 12,000-chunk
    # tree (BENCHMARKS.md, "Candidates before fusion").
    candidates: int = 200
    # A question's first results, per file: an undocumented definition the model prefers
    # moves above the documented ones that BM25 put above it (ranking.
    # dense_among_neighbours; 0: never). Measured on whole trees in BENCHMARKS.md ("Words of
    # a neighbour's comment"), with the depth.
    neighbour_depth: int = 10
    # A question's BM25 weight follows its coverage (above), but code between definitions
    # that declares a name holding one of the question's words (a constant, a table) and is
    # among BM25's first `declared_block_depth` units keeps BM25's whole weight: it is found
    # by its name, and the model, trained on functions, ranks module-level code low
    # (ranking.raise_declared_blocks; 0: never). Measured in BENCHMARKS.md ("Constants and
    # tables found by their names").
    declared_block_depth: int = 2
    # ... but never above a unit that the model and BM25 both put first (each score times
    # its unit's prior): their agreement outweighs a word of a name (ranking.agreed_first).
    agreed_first_kept: bool = True
    # Results carry context lines and where the cursor lands (what the editor shows);
    # benchmarks read only ranges and leave both out: most of a 1,000-result query's time
    # went into them.
    result_context: bool = True
    # 16 measured faster than 32 with ONNX Runtime here, at about 2/3 of the peak memory.
    batch_size: int = 16
    # Encoder backend: "onnx" (ONNX Runtime fp32, exported once from the bundled weights:
    # same vectors as torch, 0.5 s start instead of 5 s), "onnx-int8" (2x faster, MRR -0.008)
    # or "torch" (sentence-transformers fp32, also the fallback). Measured in BENCHMARKS.md.
    backend: str = "onnx"
    max_seq_length: int = 256
    # The code adaptation of the bundled model (engine/adapter.py): "default" (the file shipped
    # in the package), "none", or the path of a file written by `nearcode train`. A LoRA
    # adapter changes document vectors (re-embedding); a query-linear one changes queries only.
    adapter: str = DEFAULT_ADAPTER
    # One result per definition: the parts of a split definition are ranked as one unit, by
    # their best part ("best") or by the mean of their vectors ("mean", an ablation).
    unit_results: bool = True
    part_pooling: str = "best"
    # A selection or a class that holds several definitions is queried by the mean of their
    # vectors (as indexed, so cached) rather than by its text, of which the model sees only
    # the first max_seq_length tokens.
    query_pooling: bool = True
    # Find Similar on a class answers with classes: a member that matched stands for its
    # class, listed once (False: every definition answers as itself, an ablation).
    # BENCHMARKS.md, class sets.
    class_results: bool = True
    # With class results, code outside classes (functions, module code: more often users of
    # a class than classes like it) has its score multiplied by this; 0 leaves it out.
    outside_class_weight: float = 0.25
    # ... and the classes it names as its own supertypes (`AsyncByteStream` for `class
    # UnattachedStream(AsyncByteStream, SyncByteStream)`: the abstraction it implements,
    # read from its header, engine/supertypes.py) have their score multiplied by this, so
    # that the other classes of its kind come first. 0.5 and 0.25 gave the same ranks; 1:
    # the engine before (class sets, BENCHMARKS.md).
    asked_supertype_weight: float = 0.5
    # Intent priors (ranking.py): a question in words ranks implementation code before tests,
    # docs, changelogs, licences and stylesheets (unless it asks for them or names paths; a
    # stylesheet is weighed for questions only); code and selection queries answer with code
    # only (no prose, no import blocks).
    role_priors: bool = True
    # ... with the role a file's content gives it: code whose opening comments say a tool
    # wrote it (`// Code generated by stringer; DO NOT EDIT.`, `@generated`) ranks as a
    # generated file does, whatever its path, and a Python module that defines a `TestCase`
    # or pytest's `test*` functions (Django's `tests.py`) ranks as tests
    # (chunker.content_role; False: by path alone, the ranking before 2026-12-07).
    content_roles: bool = True
    # A word that asks for a file role ("test", "fixture", "mock", "example") asks for none
    # where at least this many definitions of the project's own code are named with it
    # (pytest's fixtures, testify's mocks, a test runner's tests): it names what the code
    # is about (Intent.asking_only_by; 0: every such word asks, the ranking before
    # 2026-12-07).
    own_vocabulary_names: int = 10
    role_weights: tuple[tuple[str, float], ...] = (
        ("test", 0.6),
        ("example", 0.8),
        ("docs", 0.5),
        ("changelog", 0.3),
        ("license", 0.2),
        ("generated", 0.5),
        ("vendored", 0.5),
        ("config", 0.8),
        ("declarations", 0.5),
        ("style", 0.5),
    )
    # ... and ranks blocks of imports below code that does something (they name modules, the
    # words of most questions, and answer none); a script's entry point (Python's
    # `if __name__ == "__main__":`, mostly a demo or a command line) ranks as examples do,
    # unless the query asks for examples (BENCHMARKS.md, rich).
    kind_weights: tuple[tuple[str, float], ...] = (("imports", 0.3), ("script", 0.8))
    # A typed question's weight for a nameless block of one statement (kramdown's
    # `define_parser(:blank_line, BLANK_LINE)` and the `end`s after it, `include Parser`,
    # a lone `#[cfg(...)]`): the model ranks such short text first for questions it does
    # not answer (ranking.is_lone_statement; 1: no weight). Measured in BENCHMARKS.md ("A
    # nameless statement alone").
    lone_statement_weight: float = 0.6
    # Code and selection queries get code only: no prose, no import blocks, no bare header of
    # a definition chunked apart from its members (`class Solution(object):`, alike in
    # every file, so it ties with all the others).
    code_answers_code: bool = True
    # BM25 also matches the query's adjacent word pairs as phrases ("invalid argument"), for
    # "code" from the workspace or a terminal (Search by Selection: snippets, error messages,
    # stack traces; and find similar), "selections" only, "all" (typed queries too) or
    # "none". A pasted message's words are common one by one and rare in their order, and
    # code like other code shares sequences, not only words; typed questions lost a little
    # (measured in BENCHMARKS.md).
    lexical_phrases: str = "code"
    # BM25 searches Find Similar's definition and Search by Selection's text by their
    # `code_query_terms` most telling words (tokens.most_telling: rare in the index,
    # frequent in the query; a class by its first 64) and their word pairs, less the words
    # more than half the chunks hold; 0: by the first 64 words. BM25 scores every chunk
    # holding a word, so at 100,000 chunks a definition's common words cost 0.1 s a query
    # and decide little (BENCHMARKS.md, "Find Similar at 100,000 chunks").
    code_query_terms: int = 24
    # Find Similar's BM25 leaves out the words of its file (tokens.file_words): those that
    # more than this share of the file's other chunks hold, at least FILE_WORDS_LEAST of them
    # (a class's name and fields, a header's namespace), and the word pairs made of them.
    # Those words find the definition's neighbours, which the user has in view, above the
    # other implementations elsewhere (0: off, BM25 searches every telling word). 0.25 was
    # chosen on five Find Similar sets and held out on the others (BENCHMARKS.md, "Find
    # Similar leaves out its file's own words").
    similar_file_words: float = 0.25

    # The bundled model (model/backend above) unless a server is configured here.
    embeddings: EmbeddingsProvider = field(default_factory=EmbeddingsProvider)


def built_settings(
    root: Path,
    model: str | None = None,
    backend: str | None = None,
    embeddings: EmbeddingsProvider | None = None,
    adapter: str | None = None,
    exclude: tuple[str, ...] | None = None,
    max_file_size: int | None = None,
) -> EngineSettings:
    """The settings the index of `root` was built with, unless the caller asks for others:
    its encoder (model, backend, provider, adapter), so that a reader (or a second server)
    queries with the same vectors and an owner does not re-embed the index for a setting
    nobody chose; and its scope (exclude patterns, largest file), so that a command that
    refreshes it neither adds the files `nearcode index --exclude` left out nor drops those
    `--max-file-size` let in."""
    manifest = Manifest.read(index_dir_for(root))
    built = manifest.encoder_settings if manifest is not None else {}
    scope = recorded_scope(manifest)
    given = {name for name, value in zip(SCOPE_FIELDS, (exclude, max_file_size), strict=True)
             if value is not None}
    # An index from before adapters existed was built without one.
    built_adapter = built.get("adapter", NO_ADAPTER) if built else DEFAULT_ADAPTER
    return EngineSettings(
        model=model or built.get("model") or None,
        backend=backend or built.get("backend") or EngineSettings().backend,
        embeddings=embeddings or _provider_of(built.get("embeddings")),
        adapter=adapter or str(built_adapter),
        exclude=scope.exclude if exclude is None else exclude,
        max_file_size=scope.max_file_size if max_file_size is None else max_file_size,
        # A scope given here is this command's choice, no longer an editor's.
        scope_from_editor=scope.from_editor - given,
    )


@dataclass(frozen=True)
class Scope:
    """Which files an index holds, besides what the workspace's own ignore files say."""

    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    from_editor: frozenset[str] = frozenset()  # EngineSettings.scope_from_editor


# The settings of a scope, by their EngineSettings names.
SCOPE_FIELDS = ("exclude", "max_file_size")


def recorded_scope(manifest: Manifest | None) -> Scope:
    """The scope an index was last updated with (Manifest.scope); the default one for an
    index from before it was recorded, or where the record does not hold (then its files
    are checked against the default, as they were before)."""
    # Here, not at the top: validation reads this module's defaults.
    from .validation import InputError, globs, max_file_size

    recorded = manifest.scope if manifest is not None else {}
    try:
        editor = recorded.get("from_editor", [])
        return Scope(
            globs(recorded.get("exclude", []), "exclude"),
            max_file_size(recorded.get("max_file_size", DEFAULT_MAX_FILE_SIZE)),
            frozenset(name for name in editor if name in SCOPE_FIELDS)
            if isinstance(editor, list)
            else frozenset(),
        )
    except InputError:
        return Scope()


def scope_options(settings: EngineSettings, exclude: bool = True, largest: bool = True) -> str:
    """The options of `nearcode index` that give these settings' scope where it is not the
    default (only those asked for); "" where it is. The command line and the server's log
    say a kept scope in these words."""
    words: list[str] = []
    if exclude:
        words += [f"--exclude {shlex.quote(pattern)}" for pattern in settings.exclude]
    if largest and settings.max_file_size != DEFAULT_MAX_FILE_SIZE:
        words.append(f"--max-file-size {settings.max_file_size}")
    return " ".join(words)


def _provider_of(stored: object) -> EmbeddingsProvider:
    """The provider recorded in a manifest (its known fields); local when there is none."""
    if not isinstance(stored, dict):
        return EmbeddingsProvider()
    known = {f.name for f in fields(EmbeddingsProvider)}
    try:
        return EmbeddingsProvider(**{k: v for k, v in stored.items() if k in known})
    except TypeError:
        return EmbeddingsProvider()
