#!/usr/bin/env bash
# End-to-end test of the packaged extension in a real VS Code (code-server 4.100.3)
# driven by Playwright over Debian's Chromium, against the real nearcode server.
#
# Usage (from anywhere):   bash vscode-client/e2e/run.sh [node --test options]
#                          (or: npm run test:e2e), e.g. --test-name-pattern="Semantic Search finds"
# Environment:
#   NEARCODE_PYTHON       interpreter with the server installed   (default <repo>/.venv/bin/python)
#   NEARCODE_E2E_CACHE    where code-server is installed once     (default ~/.cache/nearcode-e2e)
#   NEARCODE_TEST_OUTPUT  screenshot and logs                     (default <repo>/test-output)
#   NEARCODE_E2E_TIMEOUT  seconds for the browser test             (default 600)
#   NEARCODE_E2E_SETTINGS JSON object merged into the user settings (to try variants,
#                         e.g. '{"security.workspace.trust.enabled": true}')
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLIENT_DIR="$(cd "$HERE/.." && pwd)"
REPO_DIR="$(cd "$CLIENT_DIR/.." && pwd)"
NEARCODE_PYTHON="${NEARCODE_PYTHON:-$REPO_DIR/.venv/bin/python}"
OUTPUT_DIR="${NEARCODE_TEST_OUTPUT:-$REPO_DIR/test-output}"
TEST_TIMEOUT="${NEARCODE_E2E_TIMEOUT:-600}"

log() { printf '[e2e] %s\n' "$*" >&2; }

# shellcheck source=setup.sh
source "$HERE/setup.sh"
e2e_setup

mkdir -p "$OUTPUT_DIR"
rm -f "$OUTPUT_DIR"/vscode-e2e*.png  # no stale screenshots from an earlier run
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/nearcode-e2e.XXXXXX")"
CODE_SERVER_PID=""

cleanup() {
  local status=$?
  if [ -n "$CODE_SERVER_PID" ] && kill -0 -- "-$CODE_SERVER_PID" 2>/dev/null; then
    # code-server runs in its own process group (setsid): stopping the group also ends
    # its extension host, file watcher and the nearcode server it started.
    log "stopping code-server (process group $CODE_SERVER_PID)"
    kill -TERM -- "-$CODE_SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 -- "-$CODE_SERVER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$CODE_SERVER_PID" 2>/dev/null || true
  fi
  # Keep the VS Code logs (extension host, the Nearcode output channel) next to the screenshot.
  if [ -d "$RUN_DIR/user-data/logs" ]; then
    rm -rf "$OUTPUT_DIR/vscode-e2e-logs"
    cp -r "$RUN_DIR/user-data/logs" "$OUTPUT_DIR/vscode-e2e-logs" 2>/dev/null || true
  fi
  [ -f "$RUN_DIR/code-server.log" ] && cp "$RUN_DIR/code-server.log" "$OUTPUT_DIR/vscode-e2e-code-server.log"
  rm -rf "$RUN_DIR"
  exit "$status"
}
trap cleanup EXIT INT TERM

cd "$CLIENT_DIR"
if [ ! -d node_modules/playwright-core ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "packaging the extension and compiling the test"
npm run --silent package >/dev/null
npm run --silent build:tests
VSIX="$CLIENT_DIR/nearcode-0.1.0.vsix"

EXTENSIONS_DIR="$RUN_DIR/extensions"
USER_DATA_DIR="$RUN_DIR/user-data"
WORKSPACE="$RUN_DIR/workspace"
mkdir -p "$EXTENSIONS_DIR" "$USER_DATA_DIR/User" "$USER_DATA_DIR/Machine" "$RUN_DIR/xdg-config" "$RUN_DIR/xdg-data" "$RUN_DIR/xdg-cache"
cp -r "$HERE/fixture" "$WORKSPACE"

# The server under test is this checkout's code, whatever $NEARCODE_PYTHON has installed:
# the extension runs this wrapper, which puts the checkout first on the module path. (Not
# an exported PYTHONPATH: the test also points the extension at a plain python3, which
# must not find the package.)
SERVER_PYTHON="$RUN_DIR/python"
printf '#!/bin/sh\nPYTHONPATH=%q${PYTHONPATH:+:$PYTHONPATH} exec %q "$@"\n' "$REPO_DIR" "$NEARCODE_PYTHON" >"$SERVER_PYTHON"
chmod +x "$SERVER_PYTHON"
if ! "$SERVER_PYTHON" -c 'import lsp_server' 2>/dev/null; then
  # Not fatal here: the test then fails at the step the missing server blocks, and the
  # screenshot shows the extension's own "not installed" notification.
  log "WARNING: $NEARCODE_PYTHON cannot import lsp_server; the search step will fail"
fi

# code-server writes its config.yaml under XDG_CONFIG_HOME and the nearcode server its
# index under XDG_CACHE_HOME: both go to the run dir, so runs leave nothing behind.
export XDG_CONFIG_HOME="$RUN_DIR/xdg-config" XDG_DATA_HOME="$RUN_DIR/xdg-data" XDG_CACHE_HOME="$RUN_DIR/xdg-cache"

log "installing $VSIX"
"$CODE_SERVER_BIN" --extensions-dir "$EXTENSIONS_DIR" --user-data-dir "$USER_DATA_DIR" \
  --install-extension "$VSIX" >"$RUN_DIR/install.log" 2>&1 || { cat "$RUN_DIR/install.log" >&2; exit 1; }

# The same settings as user settings and as the remote machine's: code-server is a remote
# window, where machine-scoped settings (nearcode.server.python) come from Machine/settings.json.
node -e '
const [file, machineFile, python, extra] = process.argv.slice(1);
const settings = {
  "nearcode.server.python": python,
  "security.workspace.trust.enabled": false,
  "security.workspace.trust.startupPrompt": "never",
  "telemetry.telemetryLevel": "off",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "workbench.enableExperiments": false,
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "git.enabled": false,
  "chat.commandCenter.enabled": false,
  "editor.minimap.enabled": false,
  ...JSON.parse(extra || "{}"),
};
for (const target of [file, machineFile]) {
  require("fs").writeFileSync(target, JSON.stringify(settings, null, 2));
}
' "$USER_DATA_DIR/User/settings.json" "$USER_DATA_DIR/Machine/settings.json" "$SERVER_PYTHON" "${NEARCODE_E2E_SETTINGS:-}"

PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')"
log "starting code-server on 127.0.0.1:$PORT"
setsid "$CODE_SERVER_BIN" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check --disable-getting-started-override \
  --user-data-dir "$USER_DATA_DIR" --extensions-dir "$EXTENSIONS_DIR" \
  "$WORKSPACE" >"$RUN_DIR/code-server.log" 2>&1 &
CODE_SERVER_PID=$!

export NEARCODE_E2E_URL="http://127.0.0.1:$PORT/"
export NEARCODE_E2E_WORKSPACE="$WORKSPACE"
# For the test itself: the interpreter (to ask the CLI for the server's own ranking), the
# remote machine settings file (error cases edit it) and the VS Code logs (the output channel).
export NEARCODE_E2E_PYTHON="$SERVER_PYTHON"
export NEARCODE_E2E_SETTINGS_FILE="$USER_DATA_DIR/Machine/settings.json"
export NEARCODE_E2E_LOGS="$USER_DATA_DIR/logs"
export NEARCODE_TEST_OUTPUT="$OUTPUT_DIR"
log "running the browser test (limit ${TEST_TIMEOUT}s)"
timeout --kill-after=10 "$TEST_TIMEOUT" node --test --test-reporter=spec "$@" out/e2e/vscode.e2e.test.js
log "screenshots: $OUTPUT_DIR/vscode-e2e*.png"
