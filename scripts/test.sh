#!/usr/bin/env bash
# All tests: set up, lint, the Python suite (engine, server over stdio, Neovim), then the
# VS Code extension (unit tests, .vsix packaging, end-to-end in code-server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test,bench,mcp
export OMP_WAIT_POLICY=PASSIVE
mkdir -p test-output

echo "[test] ruff"
.venv/bin/ruff check lsp_server tests

echo "[test] embedding server environment (tests/remote: infinity-emb, own venv, cached)"
bash scripts/setup_infinity.sh >/dev/null

echo "[test] pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml=test-output/pytest.xml

echo "[test] vscode-client"
(
  cd vscode-client
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
  npm test
  npm run --silent package
  NEARCODE_PYTHON="$PWD/../.venv/bin/python" NEARCODE_TEST_OUTPUT="$PWD/../test-output" \
    npm run test:e2e
)
echo "[test] all passed"
