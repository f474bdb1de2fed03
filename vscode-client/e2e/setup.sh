#!/usr/bin/env bash
# Idempotent installer for the e2e prerequisites (Debian chromium, code-server).
# Sourced by run.sh; can also be run on its own to warm the cache.
# Every step is skipped when its result is already present, so a second run is instant.
set -euo pipefail

CODE_SERVER_VERSION="4.100.3"
# @vscode/ripgrep's postinstall downloads a prebuilt rg from GitHub, which is not
# reachable here; it first looks in this cache dir, so we seed it with Debian's rg.
RIPGREP_PKG_VERSION="1.15.11"
RIPGREP_ASSET="ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"

E2E_CACHE="${NEARCODE_E2E_CACHE:-$HOME/.cache/nearcode-e2e}"
CODE_SERVER_PREFIX="$E2E_CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER_BIN="$CODE_SERVER_PREFIX/node_modules/.bin/code-server"
export E2E_CACHE CODE_SERVER_BIN

setup_log() { printf '[e2e setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
  # node-pty (a code-server dependency) compiles with node-gyp.
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  command -v make >/dev/null 2>&1 || missing+=(make)
  if [ "${#missing[@]}" -eq 0 ]; then
    setup_log "apt packages present"
    return
  fi
  setup_log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

seed_ripgrep_cache() {
  local dir
  dir="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$RIPGREP_PKG_VERSION"
  if [ -s "$dir/$RIPGREP_ASSET" ]; then
    return
  fi
  setup_log "seeding $dir/$RIPGREP_ASSET with $(command -v rg)"
  mkdir -p "$dir"
  local stage
  stage="$(mktemp -d)"
  cp "$(command -v rg)" "$stage/rg"
  tar czf "$dir/$RIPGREP_ASSET" -C "$stage" rg
  rm -rf "$stage"
}

install_code_server() {
  if [ -x "$CODE_SERVER_BIN" ] && [ -f "$CODE_SERVER_PREFIX/.installed" ]; then
    setup_log "code-server $CODE_SERVER_VERSION present"
    return
  fi
  seed_ripgrep_cache
  setup_log "npm install code-server@$CODE_SERVER_VERSION into $CODE_SERVER_PREFIX (about 90 s)"
  mkdir -p "$CODE_SERVER_PREFIX"
  # unsafe_perm: lifecycle scripts run as root; yes: node-pty runs `npx node-gyp`,
  # which would otherwise stop on the global npmrc's `yes=false`.
  (
    cd "$CODE_SERVER_PREFIX"
    [ -f package.json ] || printf '{"name":"nearcode-e2e-cache","private":true}\n' > package.json
    npm_config_unsafe_perm=true npm_config_yes=true \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
  )
  "$CODE_SERVER_BIN" --version >/dev/null
  touch "$CODE_SERVER_PREFIX/.installed"
}

e2e_setup() {
  install_apt_packages
  install_code_server
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  e2e_setup
  setup_log "done: $CODE_SERVER_BIN"
fi
