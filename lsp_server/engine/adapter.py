"""Trained adapters of the bundled model, in two kinds, both small files written by
`nearcode train` (.npz: arrays and a JSON `meta`, no pickles):

- **query** (`kind: "query-linear"`): a matrix per query kind, `prose` (questions in words)
  and/or `code` (code, selections, identifiers: tokens.looks_like_code), applied to query
  embeddings only. Document vectors (the index, its embedding cache) are untouched, so
  switching it on, off or to another file needs no re-embedding: the index keeps its encoder
  identity, and the manifest records the adapter setting beside it.
- **LoRA** (`kind: "lora"`): low-rank updates of the encoder's linear layers, merged into a
  copy of the model's weights (in the model cache, once) before the ONNX export, so inference
  costs what the base model costs. Documents embed differently, so the encoder identity
  names the adapter and an index built without it is re-embedded.

The setting `adapter` is "default" (the file shipped in the package, for the bundled model),
"none", or the path of a user's own file.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .embedder import ModelLoadError
from .locations import ensure_private_dir, model_cache_root
from .settings import DEFAULT_ADAPTER, NO_ADAPTER

log = logging.getLogger(__name__)

SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "models" / "adapter-v2.npz"
FORMAT = 1
QUERY_KIND, LORA_KIND = "query-linear", "lora"
QUERY_KINDS = ("prose", "code")  # the query kinds a query adapter may hold a matrix for
_WEIGHTS = "model.safetensors"


class AdapterError(ModelLoadError):
    """An adapter file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Adapter:
    kind: str
    name: str
    version: str
    base_model: str  # the model label (or its alias) it was trained on
    digest: str  # of the file: a retrained adapter is another adapter
    arrays: dict[str, np.ndarray] = field(repr=False)
    meta: dict = field(repr=False)

    @property
    def identity(self) -> str:
        return f"{self.name}-v{self.version}@{self.digest}"

    def fits(self, encoder_identity: str) -> bool:
        """Whether it was trained for the model named first in an encoder identity."""
        label = encoder_identity.split("|", 1)[0]
        if "+" in label:  # a model with a LoRA adapter merged in: not the model it learnt
            return False
        return label == self.base_model or label.startswith(self.base_model + "@")

    # -- query-linear ------------------------------------------------------------------------

    def apply(self, vector: np.ndarray, kind: str) -> np.ndarray:
        """A query vector (unit length) after the matrix for its kind ("prose" or "code");
        unchanged when the adapter has none for that kind."""
        matrix = self.arrays.get(kind)
        if matrix is None:
            return vector
        if vector.shape[-1] != matrix.shape[1]:
            raise AdapterError(
                f"adapter {self.identity} is {matrix.shape[1]}-d, vectors {vector.shape[-1]}-d"
            )
        mapped = np.asarray(vector, dtype=np.float32) @ matrix.T
        return mapped / max(float(np.linalg.norm(mapped)), 1e-12)

    # -- LoRA --------------------------------------------------------------------------------

    def merged_weights(self, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The model's weights with each low-rank update W += (alpha / r) up @ down added."""
        scale = float(self.meta["alpha"]) / float(self.meta["rank"])
        merged = dict(weights)
        for key in {name.rsplit(".", 1)[0] for name in self.arrays}:
            if key not in merged:
                raise AdapterError(f"adapter {self.identity} updates {key}, not in the model")
            update = self.arrays[f"{key}.up"] @ self.arrays[f"{key}.down"]
            merged[key] = (merged[key] + scale * update).astype(merged[key].dtype)
        return merged


def save_adapter(
    path: Path,
    arrays: dict[str, np.ndarray],
    *,
    kind: str,
    name: str,
    version: str,
    base_model: str,
    **meta: object,
) -> None:
    """Writes an adapter file that load_adapter reads back."""
    if kind == QUERY_KIND and (not arrays or set(arrays) - set(QUERY_KINDS)):
        raise ValueError(f"query adapter matrices must be keyed by {QUERY_KINDS}")
    header = {
        "format": FORMAT,
        "kind": kind,
        "name": name,
        "version": version,
        "base_model": base_model,
        **meta,
    }
    stored = {key: np.asarray(a, dtype=np.float32) for key, a in arrays.items()}
    stored["meta"] = np.array(json.dumps(header, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    # An .npz that np.load reads, written entry by entry with a fixed timestamp (np.savez
    # stamps the time): the same arrays give the same bytes, so the same identity.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(stored):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, stored[key], allow_pickle=False)
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(entry, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED)


@lru_cache(maxsize=8)
def _read(path: Path, stamp: tuple[int, int]) -> Adapter:
    """Parses one adapter file; cached per (path, size and mtime)."""
    del stamp  # part of the cache key only
    try:
        data = path.read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            arrays = {k: archive[k].astype(np.float32) for k in archive.files if k != "meta"}
    except (OSError, ValueError, KeyError) as exc:
        raise AdapterError(f"cannot read adapter {path}: {exc}") from exc
    if meta.get("format") != FORMAT or meta.get("kind") not in (QUERY_KIND, LORA_KIND):
        raise AdapterError(
            f"adapter {path} is not a format-{FORMAT} file of `nearcode train` "
            f"(format {meta.get('format')}, kind {meta.get('kind')})"
        )
    if meta["kind"] == QUERY_KIND and not (
        arrays
        and set(arrays) <= set(QUERY_KINDS)
        and all(a.ndim == 2 and a.shape[0] == a.shape[1] for a in arrays.values())
    ):
        raise AdapterError(f"query adapter {path} needs square matrices 'prose' and/or 'code'")
    return Adapter(
        kind=meta["kind"],
        name=str(meta.get("name", path.stem)),
        version=str(meta.get("version", "0")),
        base_model=str(meta.get("base_model", "")),
        digest=hashlib.sha256(data).hexdigest()[:12],
        arrays=arrays,
        meta=meta,
    )


def load_adapter(setting: str | None) -> Adapter | None:
    """The adapter a setting names: "default" (shipped), "none", or a path to a .npz file."""
    if setting in (None, "", NO_ADAPTER):
        return None
    path = SHIPPED_ADAPTER if setting == DEFAULT_ADAPTER else Path(setting).expanduser()
    if not path.is_file():
        if setting == DEFAULT_ADAPTER:
            raise AdapterError(f"the shipped adapter is missing ({path}): reinstall nearcode")
        raise AdapterError(
            f"no adapter file at {path}: give a .npz written by `nearcode train`, "
            f"'{DEFAULT_ADAPTER}' or '{NO_ADAPTER}'"
        )
    stat = path.stat()
    return _read(path.resolve(), (stat.st_size, stat.st_mtime_ns))


def _usable(setting: str | None, model_label: str, kind: str) -> Adapter | None:
    """The adapter of this kind a setting names, if it fits the model.

    The shipped default is trained for the bundled model: with another model (or when the
    install lost it) it is left out, with a log line. A file named explicitly must fit.
    """
    try:
        adapter = load_adapter(setting)
    except AdapterError as exc:
        if setting != DEFAULT_ADAPTER:
            raise
        log.warning("working without the shipped adapter: %s", exc)  # a broken install
        return None
    if adapter is None or adapter.kind != kind:
        return None
    if not adapter.fits(model_label):
        if setting == DEFAULT_ADAPTER:
            return None
        raise AdapterError(
            f"adapter {setting} was trained for {adapter.base_model}, not for "
            f"{model_label.split('|', 1)[0]}: retrain it with `nearcode train` or set the "
            f"adapter to '{NO_ADAPTER}'"
        )
    return adapter


# -- query side -------------------------------------------------------------------------------


def query_adapter(setting: str | None, encoder_identity: str) -> Adapter | None:
    """The query-linear adapter a setting names for this encoder, or None (no adapter, or one
    of the LoRA kind, which make_encoder has merged into the model already)."""
    return _usable(setting, encoder_identity, QUERY_KIND)


# -- document side (LoRA) ---------------------------------------------------------------------


@dataclass(frozen=True)
class MergedModel:
    """A model folder with a LoRA adapter merged into its weights, written on first load (in
    the model cache, once): its identity is known before, so an index can be checked against
    it without writing anything, and a process that cannot write the cache (a reader of
    someone else's index) gets a ModelLoadError at load time, and searches by words."""

    base: Path
    adapter: Adapter
    folder: Path
    label: str

    def prepare(self) -> None:
        if (self.folder / _WEIGHTS).is_file():
            return
        try:
            _write_merged(self.base, self.adapter, self.folder)
        except OSError as exc:
            raise AdapterError(
                f"cannot write the model with adapter {self.adapter.identity} into "
                f"{self.folder.parent}: {exc.strerror or exc}"
            ) from exc


def lora_model(setting: str | None, source: Path, label: str) -> MergedModel | None:
    """The merged model when the setting names a LoRA adapter for the model at ``source``
    (labelled ``label``); None otherwise."""
    adapter = _usable(setting, label, LORA_KIND)
    if adapter is None:
        return None
    target = model_cache_root() / f"{source.name[:40]}-{adapter.name}-{adapter.digest}"
    return MergedModel(source, adapter, target, f"{label}+{adapter.identity}")


def _write_merged(source: Path, adapter: Adapter, target: Path) -> None:
    from safetensors.numpy import load_file, save_file

    if not (source / _WEIGHTS).is_file():
        raise AdapterError(f"LoRA adapters need {_WEIGHTS} in the model folder {source}")
    ensure_private_dir(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=".merge-", dir=target.parent))
    try:
        shutil.copytree(
            source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(_WEIGHTS)
        )
        merged = adapter.merged_weights(load_file(str(source / _WEIGHTS)))
        save_file(merged, str(staging / _WEIGHTS), metadata={"format": "pt"})
        os.chmod(staging, 0o700)
        try:
            os.rename(staging, target)  # atomic: readers see no folder or a complete one
        except OSError:
            if not (target / _WEIGHTS).is_file():  # a concurrent merge that won is fine
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("merged adapter %s into %s", adapter.identity, target)
