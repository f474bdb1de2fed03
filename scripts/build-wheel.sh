#!/usr/bin/env bash
# Builds nearcode's wheel and source distribution into dist/:
#   dist/nearcode-<version>-py3-none-any.whl and dist/nearcode-<version>.tar.gz
# Install either into any Python 3.10+ environment (CPU torch first, see README.md):
#   python -m pip install torch==2.13.0 && python -m pip install dist/nearcode-*.whl
# The VS Code command "Nearcode: Install nearcode into a Private Environment…" takes either.
# Usage: bash scripts/build-wheel.sh   (PYTHON: an interpreter with setuptools>=77;
#                                       default .venv/bin/python, else python3;
#                                       DIST_DIR: where to write, default dist)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
fi
dist="${DIST_DIR:-dist}"
rm -rf build "$dist"/nearcode-*
mkdir -p "$dist"
# The PEP 517 hooks directly: no build isolation, so nothing is downloaded.
"$python" - "$dist" <<'PY'
import sys

import setuptools

if int(setuptools.__version__.split(".")[0]) < 77:
    sys.exit(
        f"build-wheel: setuptools {setuptools.__version__} is too old (77+ needed): "
        f"{sys.executable} -m pip install 'setuptools>=77', or set PYTHON"
    )
import contextlib

from setuptools import build_meta

dist = sys.argv[1]
with contextlib.redirect_stdout(sys.stderr):  # setuptools' chatter; stdout: the two files
    built = [build(dist) for build in (build_meta.build_wheel, build_meta.build_sdist)]
print("\n".join(f"{dist}/{name}" for name in built))
PY
rm -rf build
