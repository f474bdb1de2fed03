"""Adapters at run time: files, query kinds, the index left untouched by a query-side one and
re-embedded for a LoRA one, and the one setting shared by the CLI and the server."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lsp_server.bench.quality import adapter_pipelines
from lsp_server.engine.adapter import (
    LORA_KIND,
    QUERY_KIND,
    SHIPPED_ADAPTER,
    AdapterError,
    load_adapter,
    query_adapter,
    save_adapter,
)
from lsp_server.engine.embedder import make_encoder
from lsp_server.engine.locations import Manifest, index_dir_for
from lsp_server.engine.settings import EngineSettings, built_settings
from lsp_server.engine.workspace import WorkspaceIndex
from lsp_server.server.settings import parse_settings

DIM = 64  # the HashingEncoder of conftest
ROOT = Path(__file__).resolve().parent.parent


def _swap_matrix(dim: int, a: int, b: int) -> np.ndarray:
    """A permutation that swaps two coordinates: a visible, exact change of a vector."""
    matrix = np.eye(dim, dtype=np.float32)
    matrix[[a, b]] = matrix[[b, a]]
    return matrix


def _write(path: Path, base_model: str = "test-hashing-encoder", **matrices) -> Path:
    save_adapter(path, matrices, kind=QUERY_KIND, name="test", version="3", base_model=base_model)
    return path


def test_round_trip_identity_and_kinds(tmp_path: Path, encoder) -> None:
    path = _write(tmp_path / "a.npz", prose=_swap_matrix(DIM, 0, 1))
    adapter = load_adapter(str(path))
    assert adapter is not None and adapter.identity.startswith("test-v3@")
    assert query_adapter(str(path), encoder.identity) == adapter

    vector = encoder.encode(["where do we reverse text"])[0]
    swapped = adapter.apply(vector, "prose")
    np.testing.assert_allclose(swapped, vector[[1, 0, *range(2, DIM)]], atol=1e-6)
    np.testing.assert_allclose(adapter.apply(vector, "code"), vector)  # no `code` matrix

    _write(path, prose=_swap_matrix(DIM, 0, 2))  # retrained: another identity
    assert load_adapter(str(path)).identity != adapter.identity


def test_none_default_and_bad_files(tmp_path: Path, encoder) -> None:
    assert load_adapter("none") is None
    assert query_adapter("none", encoder.identity) is None
    # The shipped adapter is for the bundled model: with another model it stays out.
    assert query_adapter("default", encoder.identity) is None
    # ... and with the bundled model it is part of the encoder, so of every index's identity.
    shipped = load_adapter("default")
    assert shipped is not None and shipped.kind == LORA_KIND
    assert f"+{shipped.identity}|" in make_encoder(EngineSettings()).identity
    assert f"+{shipped.identity}" not in make_encoder(EngineSettings(adapter="none")).identity

    with pytest.raises(AdapterError, match="no adapter file at"):
        load_adapter(str(tmp_path / "missing.npz"))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an archive")
    with pytest.raises(AdapterError, match="cannot read adapter"):
        load_adapter(str(junk))
    other = _write(tmp_path / "other.npz", base_model="some-other-model", prose=np.eye(DIM))
    with pytest.raises(AdapterError, match="trained for some-other-model"):
        query_adapter(str(other), encoder.identity)


def test_switching_the_adapter_keeps_the_index(workspace: Path, encoder, tmp_path: Path) -> None:
    plain = EngineSettings(adapter="none", lexical_weight=0.0, prose_lexical_weight=0.0)
    query = "retry failed http requests"
    with WorkspaceIndex(workspace, plain, encoder=encoder) as index:
        index.index()
        manifest = Manifest.read(index.index_dir)
        base = index.searcher._query_vector(query, "prose")
    calls = encoder.calls
    # Swap the query vector's largest coordinate with an empty one: a change one can see.
    high, empty = int(np.argmax(base)), int(np.argmin(np.abs(base)))
    path = _write(tmp_path / "a.npz", prose=_swap_matrix(DIM, high, empty))
    adapted_settings = EngineSettings(
        adapter=str(path), lexical_weight=0.0, prose_lexical_weight=0.0
    )
    with WorkspaceIndex(workspace, adapted_settings, encoder=encoder) as index:
        assert not index.notices  # no "rebuilding the index"
        switched = Manifest.read(index.index_dir)
        assert (switched.encoder, switched.generation) == (manifest.encoder, manifest.generation)
        assert switched.encoder_settings["adapter"] == str(path)  # what a reader will use
        adapted = index.searcher._query_vector(query, "prose")
        # Code queries (selections, find similar) have no matrix in this file: unchanged.
        np.testing.assert_allclose(index.searcher._query_vector(query, "code"), base)
        assert index.status().pending == 0
    assert encoder.calls == calls + 2  # the two queries alone: nothing re-embedded
    expected = base.copy()
    expected[[high, empty]] = base[[empty, high]]
    np.testing.assert_allclose(adapted, expected, atol=1e-6)
    assert not np.allclose(adapted, base)


def test_server_setting(tmp_path: Path) -> None:
    settings, problems = parse_settings({"adapter": "none"})
    assert settings.engine().adapter == "none" and not problems
    settings, problems = parse_settings({"adapter": str(tmp_path / "nope.npz")})
    assert settings.adapter == "default"
    assert problems and "no adapter file at" in problems[0]


def test_lora_adapter_changes_the_document_side(tmp_path: Path, workspace: Path) -> None:
    """A LoRA file is merged into a copy of the model: other vectors, another identity, so
    an index built without it is re-embedded (the real model, exported to ONNX once more)."""
    rng = np.random.default_rng(0)
    layer = "encoder.layer.0.attention.self.query.weight"
    path = tmp_path / "lora.npz"
    save_adapter(
        path,
        {
            f"{layer}.down": rng.normal(0, 0.3, (4, 384)),
            f"{layer}.up": rng.normal(0, 0.3, (384, 4)),
        },
        kind=LORA_KIND,
        name="test-lora",
        version="1",
        base_model="all-MiniLM-L6-v2",
        rank=4,
        alpha=8.0,
    )
    base = make_encoder(EngineSettings(adapter="none"))
    tuned = make_encoder(EngineSettings(adapter=str(path)))
    assert tuned.identity.startswith(base.identity.split("|")[0] + "+test-lora-v1@")
    text = ["def add(a, b):\n    return a + b"]
    similarity = float(base.encode(text)[0] @ tuned.encode(text)[0])
    assert 0.5 < similarity < 0.9999  # changed, yet still the same model underneath
    # The query side is the same model: no query adapter on top of a LoRA one.
    assert query_adapter(str(path), tuned.identity) is None

    dense = {"lexical_weight": 0.0, "prose_lexical_weight": 0.0}
    with WorkspaceIndex(workspace, EngineSettings(adapter="none", **dense)) as index:
        index.index()
    with WorkspaceIndex(workspace, EngineSettings(adapter=str(path), **dense)) as index:
        assert any("embedding model changed" in n for n in index.notices)
        assert index.status().pending == index.status().chunks  # re-embedded, not mixed


def test_readers_use_the_adapter_an_index_was_built_with(workspace: Path, tmp_path: Path) -> None:
    """A read command searches with the index's own vectors: an index from before adapters
    existed was built without one, a new folder gets the shipped one."""
    assert built_settings(workspace).adapter == "default"  # nothing built yet
    folder = index_dir_for(workspace)
    folder.mkdir(parents=True)
    old = Manifest(str(workspace), "m|onnx-fp32|max256", encoder_settings={"model": None})
    old.write(folder)
    assert built_settings(workspace).adapter == "none"
    replace(old, encoder_settings={"adapter": "/a/b.npz"}).write(folder)
    assert built_settings(workspace).adapter == "/a/b.npz"
    assert built_settings(workspace, adapter="none").adapter == "none"  # asked for: wins


def test_cli_refuses_a_missing_adapter_in_one_line(workspace: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.npz"
    done = subprocess.run(
        [sys.executable, "-m", "lsp_server", "index", str(workspace), "--adapter", str(missing)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"nearcode: no adapter file at {missing} (give a .npz written by `nearcode train`, "
        '"default" or "none")'
    )
    assert not index_dir_for(workspace).exists()  # refused before anything was built


def test_bench_adapter_pipelines_query_the_index_of_their_document_encoder(
    tmp_path: Path,
) -> None:
    """`bench quality --adapter`: a setting that changes document vectors gets the index of
    that encoder; a query-side file queries the bare model's index with its matrix on top."""
    query_file = _write(tmp_path / "q.npz", base_model="all-MiniLM-L6-v2", prose=np.eye(384))
    shipped = load_adapter("default")
    assert shipped is not None
    lora_file = tmp_path / "lora.npz"  # another LoRA file: half the shipped updates
    halved = {key: value * 0.5 for key, value in shipped.arrays.items()}
    rank, alpha = shipped.meta["rank"], shipped.meta["alpha"]
    save_adapter(
        lora_file, halved, kind=LORA_KIND, name="lora", version="1",
        base_model=shipped.base_model, rank=rank, alpha=alpha,
    )  # fmt: skip
    copy = tmp_path / "copy.npz"  # the shipped file under another name: the same encoder
    copy.write_bytes(SHIPPED_ADAPTER.read_bytes())
    found = {
        p.name: (p.overrides.get("adapter"), p.index_overrides)
        for p in adapter_pipelines(
            EngineSettings(), ["none", str(query_file), str(lora_file), str(copy)]
        )
    }
    assert found == {
        "dense/adapter=none": (None, {"adapter": "none"}),
        "hybrid/adapter=none": (None, {"adapter": "none"}),
        "dense/adapter=q": (str(query_file), {"adapter": "none"}),
        "hybrid/adapter=q": (str(query_file), {"adapter": "none"}),
        "dense/adapter=lora": (None, {"adapter": str(lora_file)}),
        "hybrid/adapter=lora": (None, {"adapter": str(lora_file)}),
        "dense/adapter=copy": (str(copy), {}),
        "hybrid/adapter=copy": (str(copy), {}),
    }
    # With the bare model shipped, the query-side file shares the run's own index.
    bare = {p.name: p for p in adapter_pipelines(EngineSettings(adapter="none"), [str(query_file)])}
    assert bare["hybrid/adapter=q"].index_overrides == {}
