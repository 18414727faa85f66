#!/usr/bin/env bash
# The whole test suite: sets up .venv (tools/setup.sh), checks the modules match the notebooks, runs every notebook
# (nbdev-test; cells flagged slow/cuda are skipped) and the pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=Agg
# fastai's data folder with local copies, so the notebooks' download cells find their data without a network
export FASTAI_HOME="${FASTAI_HOME:-$PWD/.fastai_home}"
python tools/local_data.py
if [ -d .git ] && command -v git >/dev/null; then
  nbdev-export
  if ! git diff --quiet -- fastai_sgan; then
    git --no-pager diff --stat -- fastai_sgan
    echo "FAILED: fastai_sgan/ differs from what nbdev-export makes of nbs/: export and commit." >&2; exit 1
  fi
fi
echo "== nbdev-test"
nbdev-test --n-workers 2 --timing
echo "== pytest"
pytest -q -n "${PYTEST_WORKERS:-2}" --durations=15 tests "$@"
