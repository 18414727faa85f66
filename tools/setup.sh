#!/usr/bin/env bash
# Create ./.venv with a CPU-only torch and fastai_sgan (editable, with dev tools). Safe to run again: it only
# reinstalls when pyproject.toml or the constraints changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.fastai_sgan-installed
want=$(cat pyproject.toml tools/cpu-constraints.txt tools/_fastai_sgan_tv_shim.py | sha1sum)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing fastai_sgan and its dependencies into .venv (CPU torch) ..."
  # the constraints pin the CPU builds of torch/torchvision for this install only, not in the package metadata;
  # --no-compile: no .pyc written for the many modules never imported (halves the install time)
  .venv/bin/pip install -q --disable-pip-version-check --no-compile -c tools/cpu-constraints.txt -e ".[dev]" >.venv/pip.log 2>&1 \
    || { grep -v "is ignored: it is neither" .venv/pip.log; echo "pip install failed" >&2; exit 1; }
  .venv/bin/python tools/torchvision_cpu.py
  # byte-compile, once, what the library, notebooks and tests import (pip's --no-compile skipped the rest); with
  # PYTHONDONTWRITEBYTECODE set, as on some CI machines, every process would otherwise compile them again
  env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -c "import fastai.vision.all, fastai.distributed, fastai_sgan.all, \
fastai_sgan.cli, sklearn.datasets, nbdev, nbdev.serve, execnb.shell, nbconvert, pytest, xdist, accelerate, matplotlib.pyplot, torch.distributed.run"
  .venv/bin/python -c "import fastai, torch, torchvision, nbdev; print('torch', torch.__version__, '| fastai', fastai.__version__, '| nbdev', nbdev.__version__)"
  echo "$want" > "$stamp"
fi
