#!/usr/bin/env bash
# Creates, once, the virtual environment of the real embedding server that tests/remote and
# `nearcode bench speed --remote` start on loopback: infinity-emb, whose pins (numpy<2,
# sentence-transformers<4) conflict with nearcode's, so it cannot share the project's venv.
#
# Idempotent: a finished environment is marked and reused; concurrent runs wait on a lock.
# Prints the environment's folder as its last line of stdout. Needs PyPI (or the local wheel
# mirror) only the first time.
set -euo pipefail
INFINITY_VERSION=0.0.78
TORCH_VERSION="${NEARCODE_TORCH_VERSION:-2.13.0}"
root="${NEARCODE_TEST_CACHE:-$HOME/.cache/nearcode-test}"
venv="$root/infinity-$INFINITY_VERSION-torch-$TORCH_VERSION"
ready="$venv/.nearcode-ready"
python="${PYTHON:-python3}"

mkdir -p "$root"
exec 9>"$root/.setup.lock"
flock 9
if [ ! -f "$ready" ]; then
  echo "[setup] creating $venv (infinity-emb $INFINITY_VERSION, torch $TORCH_VERSION)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
  # CPU torch first, pinned: infinity's unpinned "torch" would otherwise pull a CUDA build.
  "${pip[@]}" install "torch==$TORCH_VERSION" >&2
  "${pip[@]}" install "infinity-emb[server,torch]==$INFINITY_VERSION" >&2
  "$venv/bin/python" -c "import infinity_emb, torch, sentence_transformers" >&2
  touch "$ready"
fi
echo "$venv"
