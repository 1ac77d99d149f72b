#!/usr/bin/env bash
# Sets up filmscore if needed, then scores the bundled sample film.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/filmscore run sample_media/demo.mp4 --overwrite "$@"
