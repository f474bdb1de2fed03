"""The ONNX Runtime encoder: export once, cache privately, agree with torch, never load torch."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lsp_server.engine import onnx_encoder
from lsp_server.engine.embedder import ModelLoadError, SentenceTransformerEncoder, make_encoder
from lsp_server.engine.onnx_encoder import INT8_FILE, OnnxEncoder, export_dir, model_folder
from lsp_server.engine.settings import EngineSettings

SNIPPETS = [
    "python function parse_date\ndef parse_date(text):\n"
    "    return datetime.strptime(text, '%Y-%m-%d')",
    "def add(a, b):\n    return a + b",
    "class LRUCache:\n    def __init__(self, size):\n        self.items = OrderedDict()\n" * 3,
    "read a json file and return a dict",
    "for i in range(10):\n    print(i * i)",
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export (fp32 + int8) for the whole module: it takes seconds."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEARCODE_MODEL_CACHE_DIR", str(cache))
        OnnxEncoder(quantized=True).load()
    return cache


@pytest.fixture
def cached(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEARCODE_MODEL_CACHE_DIR", str(onnx_cache))
    return onnx_cache


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return SentenceTransformerEncoder().encode(SNIPPETS)


@pytest.mark.parametrize("quantized", [False, True])
def test_unit_vectors_close_to_torch(
    cached: Path, torch_vectors: np.ndarray, quantized: bool
) -> None:
    vectors = OnnxEncoder(quantized=quantized).encode(SNIPPETS)
    assert vectors.shape == (len(SNIPPETS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= (0.98 if quantized else 0.9999)


def test_identity_names_backend_and_length(cached: Path) -> None:
    assert OnnxEncoder(quantized=True, max_seq_length=128).identity.endswith("|onnx-int8|max128")
    assert OnnxEncoder(quantized=False).identity.endswith("|onnx-fp32|max256")


def test_second_load_reuses_cache(cached: Path) -> None:
    model_file = export_dir(model_folder()) / INT8_FILE
    mtime, exports = model_file.stat().st_mtime_ns, onnx_encoder.export_count
    for quantized in (True, False):
        OnnxEncoder(quantized=quantized).load()
    assert onnx_encoder.export_count == exports
    assert model_file.stat().st_mtime_ns == mtime


def test_cache_is_private(cached: Path) -> None:
    folder = export_dir(model_folder())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".export-")]


def test_length_sorting_keeps_input_order(cached: Path) -> None:
    # fp32: dynamic int8 scales activations per batch, so batch-mates shift vectors slightly.
    encoder = OnnxEncoder(quantized=False, batch_size=2)
    texts = [SNIPPETS[i] for i in (2, 1, 4, 0, 3, 2)]
    one_by_one = np.vstack([encoder.encode([text]) for text in texts])
    np.testing.assert_allclose(encoder.encode(texts), one_by_one, atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)


def test_cached_load_does_not_import_torch(cached: Path) -> None:
    script = (
        "import sys\n"
        "from lsp_server.engine.embedder import make_encoder\n"
        "from lsp_server.engine.settings import EngineSettings\n"
        "encoder = make_encoder(EngineSettings(backend='onnx-int8'))\n"
        "encoder.encode(['def f(): pass'])\n"
        "print(encoder.identity, sorted({'torch', 'transformers'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NEARCODE_MODEL_CACHE_DIR": str(cached)},
    )
    assert "|onnx-int8|" in done.stdout and done.stdout.strip().endswith("[]"), done.stdout


def test_failed_export_raises_and_make_encoder_falls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An empty model cache: loading must export, and that fails.
    monkeypatch.setenv("NEARCODE_MODEL_CACHE_DIR", str(tmp_path / "empty-models"))

    def broken(source: Path, dest: Path) -> None:
        raise RuntimeError("onnx is not installed")

    monkeypatch.setattr(onnx_encoder, "_run_export", broken)
    monkeypatch.setattr(onnx_encoder, "_failures", {})
    settings = EngineSettings(backend="onnx-int8")
    encoder = make_encoder(settings)
    assert isinstance(encoder, OnnxEncoder)
    with pytest.raises(ModelLoadError, match="onnx is not installed"):
        encoder.load()
    assert isinstance(make_encoder(settings), SentenceTransformerEncoder)


def test_missing_packages_fall_back_to_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_encoder, "_missing_modules", lambda names: list(names))
    encoder = make_encoder(EngineSettings(backend="onnx"))
    assert isinstance(encoder, SentenceTransformerEncoder)
    with pytest.raises(ModelLoadError, match="unknown encoder backend"):
        make_encoder(EngineSettings(backend="tensorflow"))
