"""Equal vectors in the HNSW graph: held once, every label found, nothing lost on removal."""

from __future__ import annotations

import numpy as np

from lsp_server.engine.vectors import VectorIndex

DIM = 32


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _repository_like(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[int], list[int]]:
    """600 files that each hold the same header chunk and one chunk of their own, added in
    file order (as an index build adds them): (header, own vectors, header ids, own ids)."""
    rng = np.random.default_rng(seed)
    header = _unit(rng.normal(size=(1, DIM)))
    # The files' own code lies near the header, as a solution class lies near its header.
    own = _unit(header + 0.6 * _unit(rng.normal(size=(600, DIM))))
    return header, own, list(range(0, 1200, 2)), list(range(1, 1200, 2))


def _filled(tmp_path) -> tuple[VectorIndex, np.ndarray, np.ndarray, list[int], list[int]]:
    header, own, header_ids, own_ids = _repository_like()
    index = VectorIndex(tmp_path / "vectors.hnsw", DIM, "g")
    for start in range(0, 600, 50):  # batches, as the indexer commits them
        ids = [x for pair in zip(header_ids[start:start + 50], own_ids[start:start + 50],
                                 strict=True) for x in pair]
        rows = [v for i in range(start, start + 50) for v in (header[0], own[i])]
        index.add(ids, np.array(rows, dtype=np.float32))
    return index, header, own, header_ids, own_ids


def test_a_search_among_hundreds_of_equal_vectors_finds_the_nearest_others(tmp_path):
    index, header, own, header_ids, own_ids = _filled(tmp_path)
    assert len(index) == 1200 and index.live_labels() == set(range(1200))
    query = _unit(header + 0.3 * own[7])[0]
    found = index.query(query, 300)
    labels = [label for label, _ in found]
    assert set(header_ids) <= set(labels)  # every file's header, each under its own label
    others = [label for label in labels if label in set(own_ids)]
    assert len(others) >= 290  # not a handful: the search did not get stuck among equals
    nearest = {own_ids[i] for i in np.argsort(-(own @ query))[:50]}
    assert nearest <= set(others)
    cosines = [cosine for _, cosine in found]
    assert cosines == sorted(cosines, reverse=True)


def test_removing_the_label_that_holds_a_vector_keeps_its_copies(tmp_path):
    index, header, own, header_ids, own_ids = _filled(tmp_path)
    index.remove([header_ids[0]])  # the first header added: it holds the vector
    assert header_ids[0] not in index.live_labels() and len(index) == 1199
    found = {label for label, _ in index.query(header[0], 5)}
    assert set(header_ids[1:]) <= found
    index.remove(header_ids[1:])
    assert not set(header_ids) & {label for label, _ in index.query(header[0], 50)}
    assert index.live_labels() == set(own_ids)


def test_copies_survive_save_and_load_and_compare_with_the_database(tmp_path):
    index, header, own, header_ids, own_ids = _filled(tmp_path)
    index.save()
    again = VectorIndex(tmp_path / "vectors.hnsw", DIM, "g")
    assert again.load() is None
    assert again.live_labels() == set(range(1200))
    assert {label for label, _ in again.query(header[0], 1)} >= set(header_ids)

    def vectors_for(ids):
        yield ids, np.array([header[0] if i % 2 == 0 else own[i // 2] for i in ids])

    assert again.sample_mismatches(vectors_for, sample=64) == 0
    again.rebuild(vectors_for(sorted(again.live_labels())), 1200)
    assert again.live_labels() == set(range(1200))
    assert {label for label, _ in again.query(header[0], 1)} >= set(header_ids)
