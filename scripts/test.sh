#!/usr/bin/env bash
# Sets up filmscore if needed, then runs the linters, the type checker and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check filmscore tests benchmarks sample_media models
.venv/bin/ruff format --check filmscore tests benchmarks sample_media models
.venv/bin/mypy
exec .venv/bin/pytest "$@"
