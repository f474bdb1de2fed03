"""A sentence-transformers model served by ONNX Runtime: starts in under a second, no torch.

On first use the model is exported to ONNX (fp32, plus a dynamically quantised int8 copy) in a
child process that needs torch and transformers; the result is cached under the user cache dir,
so every later load needs only onnxruntime and tokenizers. The server never imports torch on
this path, which saves seconds of start-up and a few hundred MB of memory.

Pooling (mean over the attention mask) and L2 normalisation happen in numpy, exactly as the
sentence-transformers pipeline of the supported models does (checked against modules.json).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.util
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from .embedder import (
    MAX_SEQ_LENGTH,
    LazyEncoder,
    ModelLoadError,
    resolve_model,
)
from .locations import ensure_private_dir, model_cache_root
from .privacy import child_environment, enforce_offline_environment

log = logging.getLogger(__name__)

# Bump when the exported files change shape or meaning: old caches are then ignored.
EXPORT_FORMAT = 1
OPSET = 17
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
META_FILE = "meta.json"
TOKENIZER_FILE = "tokenizer.json"
# The exporter's output depends on these; the int8 weights also on onnxruntime's quantiser.
_TOOL_PACKAGES = ("torch", "transformers", "onnx", "onnxruntime")
_EXPORT_TIMEOUT_S = 900
# What editors tell the user the one-time export takes: 8 s on two idle cores, 28 s (median
# of 3) on two cores shared with other jobs; see README.md, "Encoder".
EXPORT_SECONDS_ESTIMATE = 30
# Export failures seen in this process, by cache folder: make_encoder falls back to torch.
_failures: dict[str, str] = {}
# Exports run by this process (tests check that a cached model is not exported again).
export_count = 0


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def _transformer_dir(source: Path) -> Path:
    """Folder of the Hugging Face model inside a sentence-transformers folder."""
    try:
        modules = json.loads((source / "modules.json").read_text())
    except (OSError, ValueError):
        return source  # a plain Hugging Face model folder: mean pooling is the usual default
    for module in modules:
        if str(module.get("type", "")).endswith("Transformer"):
            return source / str(module.get("path", ""))
    return source


def _check_pooling(source: Path) -> None:
    """Refuses models whose sentence-transformers pipeline is not mean pooling."""
    try:
        modules = json.loads((source / "modules.json").read_text())
    except (OSError, ValueError):
        return
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            config = json.loads((source / module["path"] / "config.json").read_text())
            if not config.get("pooling_mode_mean_tokens") or any(
                config.get(key)
                for key in ("pooling_mode_cls_token", "pooling_mode_max_tokens")
                if key in config
            ):
                raise ModelLoadError(
                    f"the ONNX backend supports mean pooling only; {source} uses {config}"
                )


def _source_folder(model: str | None) -> tuple[Path, str]:
    """(local model folder, manifest label); the ONNX route needs files on disk."""
    source, label = resolve_model(model)
    path = Path(source)
    if not (path.is_dir() and (_transformer_dir(path) / TOKENIZER_FILE).is_file()):
        raise ModelLoadError(
            f"the ONNX backend needs a local model folder with {TOKENIZER_FILE}; got {source!r}"
        )
    return path, label


def model_folder(model: str | None = None) -> Path:
    """The local folder the ONNX backend exports ``model`` (None: the bundled one) from."""
    return _source_folder(model)[0]


def _fingerprint(source: Path) -> str:
    """Hash of the model files (path, size, mtime), tool versions and export options.

    File stats rather than contents: hashing 90 MB of weights on every start would cost more
    than the whole ONNX load.
    """
    files = sorted(
        (str(p.relative_to(source)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in source.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    key = {
        "format": EXPORT_FORMAT,
        "opset": OPSET,
        "source": str(source),
        "files": files,
        "tools": {name: _package_version(name) for name in _TOOL_PACKAGES},
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def export_dir(source: Path) -> Path:
    """Where the exported files of a model folder are cached."""
    return model_cache_root() / f"{source.name[:40]}-onnx-{_fingerprint(source)}"


def _cached(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (FP32_FILE, INT8_FILE, META_FILE))


def _missing_modules(names: Sequence[str]) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def onnx_unavailable(model: str | None, source: Path | None = None) -> str | None:
    """Why the ONNX backend cannot serve this model, or None; cheap (no heavy imports).

    `source`: the folder that will be exported instead (the model with a LoRA adapter merged
    in, written on first load), whose failed export is remembered like any other."""
    try:
        own, _ = _source_folder(model)
        _check_pooling(own)
        folder = export_dir(source or own)
    except (ModelLoadError, OSError, ValueError, KeyError) as exc:
        return str(exc)
    if str(folder) in _failures:
        return _failures[str(folder)]
    missing = _missing_modules(["onnxruntime", "tokenizers"])
    if not _cached(folder):
        missing += _missing_modules(["torch", "transformers", "onnx"])
    if missing:
        return f"missing packages: {', '.join(missing)} (pip install {' '.join(missing)})"
    return None


# -- export (runs in a child process: it imports torch) -------------------------------------


def _export(source: Path, dest: Path) -> None:
    """Writes model.onnx, model.int8.onnx, tokenizer.json and meta.json into ``dest``."""
    import inspect

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    model_dir = _transformer_dir(source)
    # Eager attention: the exported graph then carries no SDPA shortcut for unpadded batches.
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]

    class TokenEmbeddings(torch.nn.Module):
        """Positional inputs in, token embeddings out: what the legacy exporter traces."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    wrapper = TokenEmbeddings().eval()
    dummy = _dummy_inputs(names, torch)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "token_embeddings"]}
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            dummy,
            str(dest / FP32_FILE),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
        # The exporter restores the wrapper's training mode afterwards: dropout back on.
        _verify(dest / FP32_FILE, wrapper.eval(), names, torch)
    # Per-channel: per-tensor int8 weights lose too much (cosine 0.946 to fp32 vs 0.99).
    quantize_dynamic(
        dest / FP32_FILE, dest / INT8_FILE, per_channel=True, weight_type=QuantType.QInt8
    )
    shutil.copyfile(model_dir / TOKENIZER_FILE, dest / TOKENIZER_FILE)
    meta = {
        "format": EXPORT_FORMAT,
        "source": str(source),
        "inputs": names,
        "dim": int(model.config.hidden_size),
        "max_positions": int(getattr(model.config, "max_position_embeddings", 512)),
        "tools": {name: _package_version(name) for name in _TOOL_PACKAGES},
    }
    (dest / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def _dummy_inputs(
    names: list[str], torch: Any, batch: int = 2, length: int = 12, padded: bool = True
) -> tuple:
    """A padded batch, so the trace cannot specialise on an all-ones attention mask."""
    ids = torch.randint(1000, 2000, (batch, length), dtype=torch.long)
    mask = torch.ones((batch, length), dtype=torch.long)
    if padded:
        mask[-1, length // 2 :] = 0
    values = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    return tuple(values[name] for name in names)


def _verify(path: Path, module: Any, names: list[str], torch: Any) -> None:
    """Checks the graph against torch on other shapes, padded and not: a trace can freeze a
    size or a branch (transformers skips the mask when nothing is padded)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for padded in (True, False):
        inputs = _dummy_inputs(names, torch, batch=3, length=37, padded=padded)
        expected = module(*inputs).numpy()
        got = session.run(None, {n: t.numpy() for n, t in zip(names, inputs, strict=True)})[0]
        mask = inputs[names.index("attention_mask")].numpy().astype(bool)
        error = float(np.abs(got - expected)[mask].max())
        if error > 1e-3:
            raise RuntimeError(f"exported graph differs from torch by {error:.2g}")


def _private(folder: Path) -> None:
    """Cache files readable by the user alone, like the indexes."""
    os.chmod(folder, 0o700)
    for path in folder.iterdir():
        os.chmod(path, 0o600)


def ensure_exported(source: Path) -> Path:
    """The cache folder for ``source``, exporting it first if needed (raises ModelLoadError)."""
    folder = export_dir(source)
    if _cached(folder):
        return folder
    try:
        ensure_private_dir(folder.parent)
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    except OSError as exc:
        raise ModelLoadError(
            f"cannot export the model to ONNX: {folder.parent} is not writable "
            f"({exc.strerror}); set NEARCODE_MODEL_CACHE_DIR to a writable folder"
        ) from exc
    try:
        _run_export(source, tmp)
        _private(tmp)
        try:
            os.rename(tmp, folder)  # atomic: readers see no folder or a complete one
        except OSError:
            if not _cached(folder):  # a concurrent export that won the race is fine
                raise
    except Exception as exc:
        _failures[str(folder)] = f"ONNX export of {source} failed: {exc}"
        raise ModelLoadError(_failures[str(folder)]) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


# The export child runs isolated (-I: no current folder or script folder on sys.path, no
# PYTHON* variables, no user site; -B: no bytecode written next to the sources), in a folder
# of the cache, with a minimal environment: nothing in the user's folder can be imported by
# it. It finds lsp_server where this process found it (appended to sys.path, so installed
# packages still win over anything beside it).
_CHILD_BOOTSTRAP = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from lsp_server.engine.onnx_encoder import _main; sys.exit(_main())"
)


def _package_parent() -> str:
    """The folder that holds this lsp_server package."""
    return str(Path(__file__).resolve().parents[2])


def _run_export(source: Path, dest: Path) -> None:
    """Runs the export in an isolated child, its current and temporary folder in the cache."""
    missing = _missing_modules(["torch", "transformers", "onnx", "onnxruntime"])
    if missing:
        raise RuntimeError(
            f"missing packages {', '.join(missing)}: pip install {' '.join(missing)}"
        )
    log.info("exporting %s to ONNX (once; cached in %s)", source, dest.parent)
    isolated = [sys.executable, "-I", "-B", "-c", _CHILD_BOOTSTRAP, _package_parent()]
    command = [*isolated, str(source), str(dest)]
    with tempfile.TemporaryDirectory(prefix=".export-work-", dir=dest.parent) as work:
        done = subprocess.run(
            command,
            cwd=work,
            env=child_environment(Path(work)),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_EXPORT_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"exporter exited with {done.returncode}: {tail}")
    global export_count
    export_count += 1


# -- the encoder -----------------------------------------------------------------------------


class OnnxEncoder(LazyEncoder):
    """The Encoder protocol on onnxruntime + tokenizers, fp32 or dynamically quantised int8."""

    def __init__(
        self,
        model: str | None = None,
        *,
        label: str | None = None,  # for the identity; default: the model's own label
        source: Path | None = None,  # the folder to export instead (the merged model)
        prepare: Callable[[], None] | None = None,  # writes `source` on first load
        quantized: bool = True,
        max_seq_length: int = MAX_SEQ_LENGTH,
        batch_size: int = 32,
    ) -> None:
        self._source, own_label = _source_folder(model)
        self._source = source if source is not None else self._source
        label = label or own_label
        self._quantized = quantized
        self._max_seq_length = max_seq_length
        self._batch_size = max(1, batch_size)
        precision = "int8" if quantized else "fp32"
        super().__init__(f"{label}|onnx-{precision}|max{max_seq_length}", prepare)
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: list[str] = []

    def preparation_note(self) -> str | None:
        if self.loaded or _cached(export_dir(self._source)):
            return None
        return f"first run, about {EXPORT_SECONDS_ESTIMATE} s"  # a one-time export to ONNX

    def _load(self) -> None:
        enforce_offline_environment()
        _check_pooling(self._source)
        folder = ensure_exported(self._source)
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            meta = json.loads((folder / META_FILE).read_text())
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
            name = INT8_FILE if self._quantized else FP32_FILE
            session = ort.InferenceSession(
                str(folder / name), _session_options(ort), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a broken cache or runtime becomes one actionable message
            raise ModelLoadError(f"cannot load ONNX model from {folder}: {exc}") from exc
        length = min(self._max_seq_length, int(meta.get("max_positions", 512)))
        # tokenizer.json ships fixed 128-token padding and truncation: we pad per batch.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=length)
        self._tokenizer, self._inputs = tokenizer, [i.name for i in session.get_inputs()]
        self._dim = int(meta["dim"])
        self._session = session
        log.info("loaded ONNX model %s (%s, %d dims)", folder / name, self._identity, self._dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # No lock: ONNX Runtime sessions and tokenizers are safe to share between threads,
        # and a query must not wait behind a background batch (measured: 1 s median).
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        # Longest first, so each batch pads to similar lengths; rows go back in input order.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            out[rows] = self._embed([encodings[i] for i in rows])
        return out

    def _embed(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        tokens = self._session.run(None, {name: feeds[name] for name in self._inputs})[0]
        return _mean_pool(tokens, mask)


def _mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, then unit length: sentence-transformers' Pooling + Normalize."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (tokens * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _session_options(ort: Any) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # onnxruntime's pool spins between runs by default; PASSIVE (our default) keeps idle
    # threads asleep so the language server's request loop is not starved.
    if os.environ.get("OMP_WAIT_POLICY", "PASSIVE").upper() == "PASSIVE":
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _main(argv: Sequence[str] | None = None) -> int:
    """The export child (see _CHILD_BOOTSTRAP): `... SOURCE DEST`."""
    enforce_offline_environment()
    # onnx names its external-data files with uuid.uuid1(), which asks libuuid for the MAC
    # address through an AF_INET socket; a random node id (RFC 4122, 4.5) needs no socket.
    uuid.uuid1 = functools.partial(uuid.uuid1, node=secrets.randbits(48) | 1 << 40)
    parser = argparse.ArgumentParser(description="export a sentence-transformers model to ONNX")
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    _export(args.source, args.dest)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
