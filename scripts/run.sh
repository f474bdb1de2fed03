#!/usr/bin/env bash
# The main job: set up, index this repository with nearcode, and run a sample search.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/nearcode index .
# This file holds the question word for word, so it is left out of the answers.
.venv/bin/nearcode search . "where are file changes debounced before re-indexing?" --limit 5 \
    --exclude-results scripts/run.sh
