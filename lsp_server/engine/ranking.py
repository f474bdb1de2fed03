"""Pure ranking helpers: rank fusion, result filters, merging overlapping hits."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import islice

from .chunker import is_commentary, is_name_list, is_structure, marks_test, nested_chunk
from .chunks import SPANS_OF_LINES, Chunk
from .language_specs import SPECS
from .languages import (
    COMPONENT_LANGUAGES,
    PROSE_LANGUAGES,
    STYLE_LANGUAGES,
    detect_language,
    file_role,
)
from .results import signature_start
from .tokens import identifier_words
from .validation import compile_globs, globs
from .validation import languages as languages_of


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[Sequence[Hashable], float]], k: int
) -> list[tuple[Hashable, float]]:
    """Fuses ranked id lists, each with a weight, into one ranking scored in [0, 1].

    RRF ignores the raw scores (BM25 and cosine are not comparable) and rewards ids that
    rank high in several lists. Scores are divided by the best possible sum so that 1.0
    means "first in every list".
    """
    fused: dict[Hashable, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank + 1)
    best = sum(weight for ids, weight in rankings if ids) / (k + 1)
    ordered = sorted(fused.items(), key=lambda item: item[1], reverse=True)
    return [(chunk_id, score / best if best else 0.0) for chunk_id, score in ordered]


def convex_fusion(
    rankings: Sequence[tuple[dict[Hashable, float], float]],
) -> list[tuple[Hashable, float]]:
    """Fuses scored rankings by a weighted sum of their scores, each divided by its best.

    Unlike RRF this keeps how sure each ranking is: a BM25 ranking whose top match stands far
    above the rest (a rare identifier matched) outweighs one where many documents score
    alike. Scores below zero count as zero; 1.0 means "first in every ranking".
    """
    fused: dict[Hashable, float] = {}
    for scores, weight in rankings:
        top = max(scores.values(), default=0.0)
        if top <= 0 or weight <= 0:
            continue
        for key, score in scores.items():
            fused[key] = fused.get(key, 0.0) + weight * max(score, 0.0) / top
    total = convex_total(rankings)
    ordered = sorted(fused.items(), key=lambda item: item[1], reverse=True)
    return [(key, score / total if total else 0.0) for key, score in ordered]


def convex_total(rankings: Sequence[tuple[dict[Hashable, float], float]]) -> float:
    """What convex_fusion divides by: the weights of the rankings that have a score."""
    return sum(w for scores, w in rankings if w > 0 and max(scores.values(), default=0.0) > 0)


class GlobFilter:
    """Include/exclude path globs (gitignore syntax) and a language set."""

    def __init__(
        self,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        languages: Sequence[str] = (),
    ) -> None:
        self._include = compile_globs(globs(include, "include")) if include else None
        self._exclude = compile_globs(globs(exclude, "exclude")) if exclude else None
        self._languages = set(languages_of(languages))

    @property
    def active(self) -> bool:
        return bool(self._include or self._exclude or self._languages)

    def accepts(self, path: str, language: str) -> bool:
        """``language``: the chunk's; a filter on the file's takes it too (`vue` keeps the
        TypeScript of a `.vue` file's `<script>`, as `typescript` does)."""
        if (
            self._languages
            and language not in self._languages
            and detect_language(path) not in self._languages
        ):
            return False
        if self._include and not self._include.match_file(path):
            return False
        return not (self._exclude and self._exclude.match_file(path))


@dataclass
class Hit:
    chunk_id: int
    chunk: Chunk
    score: float
    duplicate: bool = False
    # The whole definition's (start line, start col, end line, end col) when `chunk` is the
    # part of it that matched.
    span: tuple[int, int, int, int] | None = None
    # The lines that matched, when not `chunk`'s: a class result shows its header and
    # matched by one of its members.
    matched: tuple[int, int] | None = None
    demoted: bool = False  # a prior ranked it down (role_weight below 1: a test, an example)

    @property
    def extent(self) -> tuple[int, int, int, int]:
        """Where a result for this hit points: the whole definition, else the chunk."""
        chunk = self.chunk
        return self.span or (chunk.start_line, chunk.start_col, chunk.end_line, chunk.end_col)


@dataclass(frozen=True)
class RankedUnit:
    """One unit of a query's candidate pool as the fusion saw it (a rank trace's row)."""

    path: str
    # Where a result for it would point (0-based, as results): the whole definition.
    start_line: int
    end_line: int
    end_col: int
    dense: float | None  # cosine of its best part; None when outside the dense pool
    lexical: float | None  # BM25 score of its best part; None when outside the BM25 pool
    factor: float | None  # the intent prior it was multiplied by; None: not an answer
    # The best part's own span (start line, start col, end line, end col) and part number:
    # what `merge_overlapping` compares before a result widens to its definition.
    part: int = 0
    chunk: tuple[int, int, int, int] = (0, 0, 0, 0)
    # How it answers a bare-name query (Intent.name; naming_tier): 3 named so, 2 declares it,
    # 1 named so in second place (a constructor, an `impl` block), 0 not; ranked by tier.
    named: int = 0
    documented: bool | None = None  # documented() of its best part (dense_among_neighbours)
    declares_asked: bool = False  # declares_asked() of its best part (raise_declared_blocks)


@dataclass(frozen=True)
class RankTrace:
    """A query's fusion inputs: the kind that chose BM25's weight, both weights and every
    candidate unit in fused order, so fusions can be compared offline (bench replay)."""

    kind: str  # "prose", "named", "code", "similar" or "class"
    dense_weight: float
    lexical_weight: float  # the kind's weight, before `lexical_scale`
    units: list[RankedUnit]
    # A question's BM25 coverage (None: not scaled by it) and the factor BM25's weight was
    # multiplied by for it (EngineSettings.prose_lexical_coverage).
    coverage: float | None = None
    lexical_scale: float = 1.0
    neighbours: int = 0  # the depth dense_among_neighbours ran to (0: not run)
    block_depth: int = 0  # how deep in BM25's ranking raise_declared_blocks looked (0: not run)
    kept_first: bool = False  # whether it kept a unit both rankings put first (agreed_first)


_STRING_START = re.compile(r"[rRbBuUfF]{0,2}[\"']")  # a string literal's first characters


def documented(chunk: Chunk) -> bool | None:
    """Whether a definition carries words of its own about it: a comment above it (a doc
    comment or a plain one) or a docstring. None where that cannot be told from the chunk:
    code that is not a definition, a later part of a split one, a language without a spec."""
    spec = SPECS.get(chunk.language)
    if spec is None or chunk.kind in SPANS_OF_LINES or chunk.part > 1:
        return None
    text = chunk.text.lstrip()
    opening = spec.block_comment[0]
    if text.startswith((*spec.line_comments, *spec.doc_comments, *((opening,) if opening else ()))):
        return True
    if not spec.docstrings:
        return False
    _, found, body = text.partition(chunk.signature) if chunk.signature else ("", "", "")
    if not found:  # no signature kept, or one joined from several lines: past the header's end
        body = text.partition(":\n")[2]
    return bool(_STRING_START.match(body.lstrip()))


# Questions, in words, naming an identifier or not: the query kinds the neighbour lift
# (dense_among_neighbours) and the block rule (raise_declared_blocks) are for.
QUESTION_KINDS = frozenset({"prose", "named"})


def declares_asked(chunk: Chunk, terms: frozenset[str]) -> bool:
    """Whether code between definitions declares a name that holds a word of the question
    (`DEFAULT_TIMEOUT_CONFIG` for "default timeout and pool limits", `BOUNDARY_ALPHABET` for
    "boundary characters of multipart streams"); a plural word matches its singular."""
    if chunk.kind != "block":
        return False
    for name in chunk.names:
        words = identifier_words(name.rsplit(".", 1)[-1])
        if any(word in terms or word + "s" in terms for word in words):
            return True
    return False


def raise_declared_blocks(
    fused: list[tuple[Hashable, float]],
    lexical: dict[Hashable, float],
    declared: set[Hashable],
    weight: float,
    total: float,
    depth: int,
    kept_first: tuple[Hashable, Mapping[Hashable, float | None]] | None = None,
) -> list[tuple[Hashable, float]]:
    """`fused` (convex fusion's list, best first) with `weight` more of BM25's say for the
    units among BM25's first `depth` (`lexical`, best first) that are in `declared`: each
    gains `weight` times its BM25 score over the best, over `total` (convex_total: as
    convex_fusion scales). Re-sorted, best first.

    `kept_first`: a unit and every unit's prior (the factor its fused score is multiplied
    by; agreed_first): no raised unit passes that one once priors are applied. Where the
    model and BM25 both put one answer first, a block found by a word of its name alone is
    not reason enough to put it above (kramdown's `REDUNDANT_LINE_BREAK_REGEX`, BM25's
    second, above the quote rules both rankings put first, for "regex rules deciding whether
    a straight quote becomes an opening or closing quote").

    A question's BM25 weight is scaled down when no unit holds much of its words (coverage):
    right for definitions, whose match is often a word or two of their comment, but a
    module-level constant or table is found by its name, which holds the question's words
    (`FORCED_WIDTH` for "force a fixed width for help output") while the model, trained on
    functions, ranks it low."""
    top = next(iter(lexical.values()), 0.0)
    raised = {key for key in islice(lexical, depth) if key in declared}
    if not raised or top <= 0 or weight <= 0 or total <= 0:
        return fused
    gain = weight / total / top
    ceilings = _ceilings(fused, raised, kept_first)
    out = [
        (key, min(score + gain * lexical[key], max(score, ceilings.get(key, math.inf))))
        if key in raised
        else (key, score)
        for key, score in fused
    ]
    out.sort(key=lambda item: -item[1])
    return out


def _ceilings(
    fused: list[tuple[Hashable, float]],
    raised: set[Hashable],
    kept_first: tuple[Hashable, Mapping[Hashable, float | None]] | None,
) -> dict[Hashable, float]:
    """The fused score each raised unit may reach and stay below the kept first once both
    are multiplied by their priors (none where no unit is kept first)."""
    if kept_first is None:
        return {}
    first, factors = kept_first
    top = next((score for key, score in fused if key == first), None)
    kept = factors.get(first)
    if top is None or not kept:
        return {}
    # Just below: a tie would keep the fused order, which the raise has just changed.
    limit = top * kept * (1 - 1e-9)
    return {key: limit / factor for key in raised - {first} if (factor := factors.get(key))}


def agreed_first(
    rankings: Sequence[Mapping[Hashable, float]], factors: Mapping[Hashable, float | None]
) -> Hashable | None:
    """The unit every ranking puts first once each score is multiplied by the unit's prior
    (`factors`; None or 0: not an answer), or None where the rankings differ or one is empty."""
    firsts = set()
    for scores in rankings:
        weighed = {
            key: score * factor for key, score in scores.items() if (factor := factors.get(key))
        }
        if not weighed:
            return None
        firsts.add(max(weighed, key=weighed.__getitem__))
    return firsts.pop() if len(firsts) == 1 else None


def dense_among_neighbours(
    hits: list[Hit], dense: dict[int, float], own_words: dict[int, bool | None], depth: int
) -> None:
    """Re-sorts `hits` (fused order) after reordering each file's hits among the first
    `depth`: an undocumented hit moves above every documented one ranked above it that the
    dense ranking puts below it. The file's hits keep their places in the list and trade
    scores; other files' hits and the order among undocumented hits stay.

    BM25 reads a definition's comments and docstring with its code, so of two neighbours that
    share a file's vocabulary it favours the documented one when a question uses words its
    comment holds; the undocumented one, that the model reads as the better answer, falls
    below it (`min_by_key` beside a documented `max_by`). `dense` and `own_words` are keyed by
    `Hit.chunk_id` (documented() of the hit's chunk; a hit missing from `dense` is last)."""
    by_file: dict[str, list[Hit]] = {}
    for hit in hits[:depth]:
        by_file.setdefault(hit.chunk.path, []).append(hit)
    moved = False
    for group in by_file.values():
        order = _undocumented_lifted(group, dense, own_words)
        if order != group:
            scores = [hit.score for hit in group]
            for hit, score in zip(order, scores, strict=True):
                hit.score = score
            moved = True
    if moved:
        hits.sort(key=lambda hit: -hit.score)


def _undocumented_lifted(
    group: list[Hit], dense: dict[int, float], own_words: dict[int, bool | None]
) -> list[Hit]:
    """One file's hits, each undocumented one moved above the first documented hit above it
    that the dense ranking puts below it."""
    order = list(group)
    for hit in group:
        if own_words.get(hit.chunk_id) is not False:
            continue
        score = dense.get(hit.chunk_id, float("-inf"))
        at = order.index(hit)
        above = next(
            (
                i
                for i in range(at)
                if own_words.get(order[i].chunk_id)
                and dense.get(order[i].chunk_id, float("-inf")) < score
            ),
            None,
        )
        if above is not None:
            order.insert(above, order.pop(at))
    return order


def merge_overlapping(hits: Sequence[Hit]) -> list[Hit]:
    """Keeps the best-scored hit of overlapping ones (parts of one split definition)."""
    kept: list[Hit] = []
    # Indexed by path: deep candidate pools (1,000+ hits) made the all-pairs scan quadratic.
    by_path: dict[str, list[Hit]] = {}
    for hit in hits:
        same_file = by_path.setdefault(hit.chunk.path, [])
        home = next((k for k in same_file if k.chunk.overlaps(hit.chunk)), None)
        if home is None:
            kept.append(hit)
            same_file.append(hit)
        else:
            home.chunk = _union(home.chunk, hit.chunk)
            home.duplicate = home.duplicate or hit.duplicate
    return kept


def _union(a: Chunk, b: Chunk) -> Chunk:
    """The span covering both; the text (and so the preview) of the one that starts first."""
    first = a if (a.start_line, a.start_col) <= (b.start_line, b.start_col) else b
    end = max((a.end_line, a.end_col), (b.end_line, b.end_col))
    return replace(first, end_line=end[0], end_col=end[1])


# -- intent priors ----------------------------------------------------------------------------

# Words by which a question asks for what the priors would otherwise rank down. Read from
# the question's own words (_asked_roles): "JSON", "settings", "history" or "spec" alone
# name data, objects and standards far more often than files ("parse the JSON body", "the
# redirect history", "the HTML spec"), so a format asks for config files only as a file.
_ROLE_WORDS: dict[str, re.Pattern[str]] = {
    "test": re.compile(
        r"\b(?:tests?|unit[- ]?tests?|spec files?|fixtures?|mocks?|benchmarks?|benches)\b", re.I
    ),
    "docs": re.compile(r"\b(?:docs?|documentation|readme|guides?|tutorials?|manual)\b", re.I),
    "changelog": re.compile(
        r"\b(?:changelog|release notes?|(?:release|version) history|changes in|news)\b", re.I
    ),
    "license": re.compile(r"\b(?:licen[cs]e[sd]?|copyright)\b", re.I),
    "example": re.compile(r"\b(?:examples?|samples?|demos?|stor(?:y|ies)|storybook)\b", re.I),
    "config": re.compile(
        r"\b(?:config(?:uration)?s?|(?:settings|json|yaml|toml|ini) files?)\b"
        r"|[\w-]\.(?:json|ya?ml|toml|ini|cfg)\b",
        re.I,
    ),
    # What a stylesheet answers: how things look ("the hover colour of a menu item").
    "style": re.compile(
        r"\b(?:css|scss|sass|stylesheets?|styles?|styling|styled|themes?|theming|colou?rs?"
        r"|fonts?|margins?|padding|borders?|hover|animations?|dark mode|shadows?"
        r"|spacing)\b",
        re.I,
    ),
    # Code a tool wrote, asked as such ("the generated gRPC client"), not a value a
    # function generates ("the generated token").
    "generated": re.compile(
        r"\b(?:generated\s+(?:code|files?|clients?|bindings?|stubs?|wrappers?|accessors?)"
        r"|codegen|code\s+generation)\b",
        re.I,
    ),
    # What a component's markup answers: what it renders and where.
    "markup": re.compile(
        r"\b(?:templates?|markup|render(?:s|ed|ing)?|slots?)\b",
        re.I,
    ),
}
# "test" as a verb ("Test if this node has an attribute", "tests whether the predicate
# holds"): the question asks for the code that checks, not for tests.
_TEST_VERB = re.compile(r"\b(?:tests?|testing)\s+(?:if|whether|to see (?:if|whether))\b", re.I)
# What a question holds that is not its own words: URLs ("https://example.com/docs"), quoted
# text ('config.yaml' in a message), "for example".
_NOT_WORDS = re.compile(
    r"\S+://\S*|`[^`]*`|(?<!\w)'[^']*'(?!\w)|\"[^\"]*\"|\b(?:for (?:example|instance)|e\.g\.)", re.I
)
# Tokens shaped like identifiers rather than words: camelCase, PascalCase with an inner
# capital, snake_case, dotted names, calls.
_IDENTIFIER = re.compile(
    r"(?<![\w.])(?:[a-z]+[A-Z]\w*|[A-Z][a-z0-9]+[A-Z]\w*|[A-Za-z]\w*_\w+|[A-Za-z_]\w+\.[A-Za-z_]\w+|\w+\(\))"
)
# A typed query that is one identifier, qualified or not (`DEFAULT_LIMITS`, `Client.send`,
# `Error::new`, `Router#use`): the name of a definition.
_BARE_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*")
_NAME_JOINTS = re.compile(r"::|#")
# Chunk kinds that stand for a file role: a script's entry point (Python's
# `if __name__ == "__main__":`) is mostly a demo or a command line, an example of the code's
# use, so asking for examples lifts its kind weight too.
_KIND_ROLES = {"script": "example"}
# File roles that hold prose. Code and selection queries never get prose back, nor blocks of
# imports or bare definition headers (role_weight).
_PROSE_ROLES = frozenset({"docs", "changelog", "license"})
# File roles weighed for questions in words only. A stylesheet answers a question only
# about looks, but a selection of CSS or Find Similar on a stylesheet's rule asks for other
# rules, which a weight would put below code that merely shares their words.
_QUESTION_ONLY_ROLES = frozenset({"style"})


def _asked_roles(query: str) -> dict[str, frozenset[str]]:
    """The file roles a question names ("test for ...", "examples of ..."), each with the
    words that name it (lower-cased), read from its own words: not from URLs, quoted text or
    identifiers (`HasExample`, `history: list`)."""
    words = _NOT_WORDS.sub(" ", query)
    # A config file named (`tsconfig.json`) asks for config files, though it is shaped like
    # an identifier, which the words below leave out.
    file_name = _ROLE_WORDS["config"].search(words)
    words = _TEST_VERB.sub(" ", _IDENTIFIER.sub(" ", words))
    asked = {
        role: frozenset(m.group().lower() for m in pattern.finditer(words))
        for role, pattern in _ROLE_WORDS.items()
    }
    if file_name is not None:
        asked["config"] = asked["config"] | {file_name.group().lower()}
    return {role: found for role, found in asked.items() if found}


@dataclass(frozen=True)
class Intent:
    """What a query wants, as far as ranking by file role goes."""

    code: bool  # code, a selection, a stack trace: answers must be code
    asked_roles: frozenset[str] = frozenset()  # roles the query names ("test for ...")
    placed: bool = False  # the user said where to look (include globs): no role priors
    names_identifier: bool = False  # words around at least one identifier-shaped token
    finds_similar: bool = False  # the query is the workspace's own code (find similar)
    selected: bool = False  # selected or pasted text (Search by Selection), not typed
    classes: bool = False  # find similar on a class: members answer as their class
    name: str = ""  # a typed query that is one identifier: the name asked for, "." joined
    # find similar on a class: the supertypes its header names, by their last name
    bases: frozenset[str] = frozenset()
    # find similar: the kind of text asked about, among KINDS_OF_TEXT ("": code)
    text_kind: str = ""
    # the words that name each asked role ("tests", "fixture", "spec files"), lower-cased
    asked_words: tuple[tuple[str, frozenset[str]], ...] = ()

    @staticmethod
    def of(
        query: str, code: bool, include: Sequence[str] = (), *, selected: bool = False
    ) -> Intent:
        # Code and selections ask for code like themselves: their words name no file role.
        asked = {} if code or selected else _asked_roles(query)
        named = not code and _IDENTIFIER.search(query) is not None
        bare = query.strip()
        name = "" if selected or not _BARE_NAME.fullmatch(bare) else _NAME_JOINTS.sub(".", bare)
        return Intent(
            code or selected,
            frozenset(asked),
            bool(include),
            named,
            selected=selected,
            name=name,
            asked_words=tuple(sorted(asked.items())),
        )

    def asking_only_by(self, own_words: Callable[[str], bool]) -> Intent:
        """This intent less the roles that only words of the project's own vocabulary ask
        (`own_words`: pytest's "fixture", testify's "mock" name the code they are about, not
        tests). A phrase ("unit tests", "spec files") or a file name (`tsconfig.json`) asks
        for its role whatever the code is named."""
        kept = {
            role
            for role, words in self.asked_words
            if any(not word.isalpha() or not own_words(word) for word in words)
        }
        if kept == set(self.asked_roles):
            return self
        return replace(self, asked_roles=frozenset(kept))

    @staticmethod
    def similar_to_code(
        include: Sequence[str] = (),
        *,
        classes: bool = False,
        bases: Iterable[str] = (),
        text_kind: str = "",
    ) -> Intent:
        own = frozenset(name.rpartition(".")[2] for name in bases)
        return Intent(
            True,
            placed=bool(include),
            finds_similar=True,
            classes=classes,
            bases=own,
            text_kind=text_kind,
        )

    def names_as_base(self, chunk: Chunk) -> bool:
        """Whether the chunk is (or is a member of) a class the asked class names as its own
        supertype (`AsyncByteStream` for `class UnattachedStream(AsyncByteStream)`)."""
        owner = chunk.symbol if chunk.kind == "class" else chunk.container
        return bool(self.bases) and owner.rpartition(".")[2] in self.bases


def is_named(chunk: Chunk, name: str) -> bool:
    """Whether the chunk defines ``name`` ("." joined): a definition so named, a member of
    that name (`send` is `Client.send`), or code between definitions that declares it."""
    return bool(name) and any(own == name or own.endswith("." + name) for own in chunk.names)


NAMED_SO, DECLARED, NAMED_SECOND = 3, 2, 1  # naming tiers; 0: not named so


def naming_tier(chunk: Chunk, name: str) -> int:
    """How a chunk answers a bare name (named_as)."""
    return named_as(chunk, name)[0]


def named_as(chunk: Chunk, name: str) -> tuple[int, Chunk]:
    """How a chunk answers a bare name, and where its result lands.

    NAMED_SO when it defines it, or holds a definition so named (a closure, a local class,
    a callback assigned to a name: the result lands on that definition, chunker's
    nested_chunk); DECLARED when it only declares the name (a constant, a field, a type
    alias, a C# auto-property: a block, or the line of a class's header that declares it;
    or a method without a body, an interface's or an abstract one, which the methods that
    implement it define); NAMED_SECOND when it is named so only after something else is:
    a constructor, named after its class (`ParseError.ParseError`), or a block that adds to
    a type defined elsewhere (Rust's `impl CoalesceBy`, LanguageSpec.extension_header); 0
    when not named so. Typed alone, `ParseError` asks for the class, as an editor's
    go-to-definition lands there, and `TypeOffset` for pythonnet's class, not for a property
    `TypeOffset TypeOffset { get; }` declared in another."""
    if not is_named(chunk, name):
        nested = nested_chunk(chunk, name) if name and "." not in name else None
        if nested is None:
            return 0, chunk
        return (DECLARED if nested.kind == "block" else NAMED_SO), nested
    if chunk.kind == "block" or is_declaration(chunk):
        return DECLARED, chunk
    owner, _, own = chunk.symbol.rpartition(".")
    constructor = chunk.kind == "method" and owner.rpartition(".")[2] == own
    return (NAMED_SECOND if constructor or _extends(chunk) else NAMED_SO), chunk


def _extends(chunk: Chunk) -> bool:
    spec = SPECS.get(chunk.language)
    header = spec.extension_header if spec else ""
    return bool(header) and re.match(header, chunk.signature.lstrip()) is not None


def named_first(score: float, tier: int, demoted: bool = False) -> float:
    """A result's score when the query is a bare name: a fused score is at most 1, so each
    naming tier (naming_tier) gets a quarter of the scale, (tier + s) / 4, and ranks above
    the tiers below it. Within a tier that names it (1 and up), the implementation's code
    comes first: a definition a prior ranks down (`demoted`: a test's, an example's, a
    declaration file's) takes the lower half of its tier, so express's `res.format` comes
    before `format` in `examples/content-negotiation`, however the two fused. Scores stay
    within 0 and 1, and the order holds across folders, whose results are merged by score.
    (Arrays too: bench replay scores every unit of a query at once.)"""
    if tier:
        score = score / 2 if demoted else (1 + score) / 2
    return (score + tier) / (NAMED_SO + 1)


# Chunks that can be comments alone: code between definitions, a component's markup.
_MAYBE_COMMENTARY = frozenset({"block", "window"})


def role_weight(
    path: str,
    chunk: Chunk,
    intent: Intent,
    weights: dict[str, float],
    code_only: bool,
    kind_weights: dict[str, float] | None = None,
    known_role: str = "",
) -> float | None:
    """The factor a result's score is multiplied by; None drops it (code queries, prose).
    `known_role`: the file's role as its content and the workspace's .gitattributes tell
    it ("": its path's, languages.file_role)."""
    # Read once: it decides the role (prose in a code file) and what code queries leave out.
    commentary = chunk.kind in _MAYBE_COMMENTARY and is_commentary(chunk.text, chunk.language)
    role = _chunk_role(path, chunk, commentary, known_role)
    prose = role in _PROSE_ROLES or chunk.language in PROSE_LANGUAGES
    if intent.code and code_only and (prose or chunk.kind == "imports"):
        return None
    # Bare headers and docstrings alone too (checked for code queries only: this runs for
    # every candidate), but a class header alone is what the class's bare name asks for.
    if (
        intent.code
        and code_only
        and _not_code(chunk, commentary)
        and not is_named(chunk, intent.name)
    ):
        return None
    if intent.finds_similar and (role if role in KINDS_OF_TEXT else "") != intent.text_kind:
        return None  # a function's template or stylesheet is no code like it, nor the reverse
    kind = (kind_weights or {}).get(chunk.kind, 1.0)
    if not intent.code and is_lone_statement(chunk):
        kind *= (kind_weights or {}).get(LONE_STATEMENT, 1.0)
    if _KIND_ROLES.get(chunk.kind) in intent.asked_roles:
        kind = 1.0
    if intent.placed or role in intent.asked_roles:
        return kind
    if intent.code and role in _QUESTION_ONLY_ROLES:
        return kind
    return weights.get(role, 1.0) * kind


LONE_STATEMENT = "lone statement"  # the key of its weight among the kind weights


def is_lone_statement(chunk: Chunk) -> bool:
    """A block that declares no name and holds one line of code (its structure lines, such
    as Ruby's closing `end`s, aside): `define_parser(:blank_line, BLANK_LINE)`,
    `include Parser`, `#[cfg(feature = "std")]`."""
    if chunk.kind != "block" or chunk.symbol:
        return False
    code = (line for line in chunk.text.splitlines() if line.strip() and not is_structure(line))
    return next(code, None) is not None and next(code, None) is None


# What Find Similar answers in kind only: code with code, a component's markup with markup,
# a stylesheet (or a component's `<style>`) with styles.
KINDS_OF_TEXT = frozenset({"markup", "style"})


def text_kind(path: str, chunk: Chunk) -> str:
    """The chunk's kind of text among KINDS_OF_TEXT, "" for code (Intent.text_kind)."""
    role = _chunk_role(path, chunk, commentary=False)
    return role if role in KINDS_OF_TEXT else ""


def _chunk_role(path: str, chunk: Chunk, commentary: bool, known_role: str = "") -> str:
    """The file's role, except in a code file: comments or a docstring alone (a module's doc
    comment, a licence header, a long doc comment's windows) are docs, prose about the code,
    ranked as a docs file is for a question (BENCHMARKS.md, "Prose in a code file"); a
    definition an attribute or its container marks as a test (Rust's `#[test]`, `mod tests`)
    is a test; a component's `<style>` is a stylesheet, its markup (a Vue `<template>`,
    Svelte's elements) markup. The file's role is `known_role` where given (code a tool
    wrote, what .gitattributes say), else its path's."""
    role = known_role or cached_file_role(path)
    if role != "code":
        return role
    if commentary:
        return "docs"
    if chunk.language in STYLE_LANGUAGES:
        return "style"
    if chunk.language in COMPONENT_LANGUAGES:
        return "markup"
    return "test" if is_marked_test(chunk) else role


def is_marked_test(chunk: Chunk) -> bool:
    """Whether the chunk lies in a test container (LanguageSpec.test_containers: Rust's `mod
    tests`, whose helpers have no attribute of their own), or an attribute above the
    definition's signature marks it as a test (LanguageSpec.test_attribute: Rust's `#[test]`,
    `#[tokio::test]`, `#[cfg(test)]`), not a comment that quotes one. A later part of a split
    definition does not hold its attributes: only its first says."""
    spec = SPECS.get(chunk.language)
    if spec is None:
        return False
    if spec.test_containers and not spec.test_containers.isdisjoint(chunk.container.split(".")):
        return True
    if spec.test_attribute is None or chunk.kind in SPANS_OF_LINES or chunk.part > 1:
        return False
    start = signature_start(chunk)
    above = chunk.text.find(start) if start else -1
    return above > 0 and marks_test(chunk.text[:above], spec)


def _not_code(chunk: Chunk, commentary: bool) -> bool:
    """`commentary`: the chunk is a block of comments or a docstring alone."""
    return (
        is_bare_header(chunk)
        or is_declaration(chunk)
        or commentary
        or (chunk.kind == "block" and is_name_list(chunk.text))
    )


def is_declaration(chunk: Chunk) -> bool:
    """A method without a body (an interface's, an abstract one: `int maxBodySize();`): its
    doc and signature, what a question may ask for, but no code to be like."""
    if chunk.part or chunk.kind not in ("function", "method"):
        return False  # (a part of a long method may end on a statement's `;`)
    # Its text ends with its signature, a `;` (`Connection url(URL url);`), or the line in
    # Kotlin and Swift (LanguageSpec.declaration_end): not a function whose text goes on past
    # its signature (`const f = (x) => x * 2;`, Kotlin's `fun load() = "x"`).
    spec = SPECS.get(chunk.language)
    end = spec.declaration_end if spec is not None else ";"
    signature = chunk.signature.strip()
    return signature.endswith(end) and chunk.text.rstrip().endswith(signature)


def is_bare_header(chunk: Chunk) -> bool:
    """A definition's header alone (`class Solution(object):`, its members chunked apart):
    nothing to compare code with, and alike across files, so it ties with every other."""
    return bool(chunk.signature) and chunk.text.strip() == chunk.signature.strip()


@lru_cache(maxsize=65536)
def cached_file_role(path: str) -> str:
    return file_role(path)
