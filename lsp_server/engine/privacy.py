"""Nothing leaves the machine: the switches that keep every native dependency offline.

One place for them, applied by every entry point (the command line, the language server, the
model-export child) before onnxruntime, tokenizers, torch or Hugging Face code is imported:
several of these libraries read their switches once, at import or when their runtime starts.

What each switch stops (checked against the installed sources):
- onnxruntime (1.32 official builds) starts Microsoft's 1DS telemetry with the first
  InferenceSession: DNS lookups of an events host, and a device id written under
  ~/.cache/Microsoft. ORT_DISABLE_TELEMETRY=1 before the runtime starts prevents the uploader,
  the events and the id; `onnxruntime.disable_telemetry_events()` comes too late for them.
- huggingface_hub / transformers / sentence-transformers: hub look-ups, telemetry headers,
  token look-ups and update checks (read once, in huggingface_hub.constants).
- tokenizers: network only through `Tokenizer.from_pretrained`, which nearcode never calls;
  its thread pool is kept off (TOKENIZERS_PARALLELISM) so forking children stays quiet.
- torch and hnswlib: no network code on the paths nearcode uses; nothing to switch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# Forced, whatever the user's environment says: the product promise is that nothing leaves.
OFFLINE_ENVIRONMENT: Mapping[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # weight-loading bars would garble CLI output
}

# Defaults a user may override: OpenMP threads that spin between batches starve the request
# loop, and the tokenizers pool is not needed (nearcode batches itself).
DEFAULT_ENVIRONMENT: Mapping[str, str] = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "TOKENIZERS_PARALLELISM": "false",
}

# What a child process keeps of the parent's environment: enough to run Python and to
# honour the user's locale and thread limits, nothing that changes what gets imported.
_CHILD_KEEPS = (
    "PATH",
    "HOME",
    "USERPROFILE",
    "SYSTEMROOT",
    "LANG",
    "LANGUAGE",
    "TZ",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OMP_WAIT_POLICY",
)


def enforce_offline_environment() -> None:
    """Sets the switches in this process (and so in every library it loads later)."""
    os.environ.update(OFFLINE_ENVIRONMENT)
    for name, value in DEFAULT_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def child_environment(temp_dir: Path) -> dict[str, str]:
    """A minimal environment for a child process, its temporary files kept in ``temp_dir``.

    No PYTHON* variables (the child also runs with -I), no proxies, no library paths from
    the parent: only the locale, the thread limits and the privacy switches.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name in _CHILD_KEEPS or name.startswith("LC_")
    }
    for name, value in DEFAULT_ENVIRONMENT.items():
        env.setdefault(name, value)
    env.update(OFFLINE_ENVIRONMENT)
    for name in ("TMPDIR", "TEMP", "TMP"):
        env[name] = str(temp_dir)
    return env
