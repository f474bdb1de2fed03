#!/usr/bin/env bash
# Creates .venv (if needed) and installs nearcode into it: CPU torch first, then the project.
# Usage: bash scripts/bootstrap.sh [EXTRAS]   e.g. "test" or "test,bench,mcp"
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip
# Torch first, pinned to the CPU build: a later unpinned "torch" requirement would otherwise
# pull a multi-gigabyte CUDA build.
"${pip[@]}" install "torch==${NEARCODE_TORCH_VERSION:-2.13.0}"
target="."
[ -n "$extras" ] && target=".[$extras]"
"${pip[@]}" install -e "$target"
echo "[setup] $(.venv/bin/python -c 'import lsp_server, torch; print("nearcode", lsp_server.__version__, "torch", torch.__version__)')"
