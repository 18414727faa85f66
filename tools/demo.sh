#!/usr/bin/env bash
# The main job: sets up .venv (tools/setup.sh) and runs `python -m fastai_sgan` with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec .venv/bin/python -m fastai_sgan "$@"
