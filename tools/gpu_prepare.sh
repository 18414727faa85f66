#!/usr/bin/env bash
# Prepare what bench/gpu_check.sh needs on a lent GPU machine (Python 3.12 with torch and torchvision, no network):
# the wheels of the packages fastai_sgan imports that the machine lacks, at exactly the versions of the tested .venv
# (listed in .gpu/lock.txt), the MNIST IDX files and the CIFAR-10 archive, in .gpu/ (ignored by git, carried by the device tool).
# Run here, then: device run `bash bench/gpu_check.sh` with carry ['.gpu'] (see bench/gpu_check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python; [ -x "$py" ] || { echo "no .venv: run bash tools/setup.sh first" >&2; exit 1; }
# what the GPU machine's image lacks (it has torch, torchvision, numpy, pandas, matplotlib, scikit-learn, accelerate...)
pkgs="fastai fastcore fastprogress fastdownload fasttransform plum-dispatch beartype python-fasthtml starlette itsdangerous
      python-multipart defusedxml oauthlib beautifulsoup4 soupsieve uvicorn"
rm -rf .gpu/whl; mkdir -p .gpu/whl .gpu/mnist
$py -m pip freeze --all 2>/dev/null | $py -c "
import sys, re
norm = lambda s: re.sub(r'[-_.]+', '-', s).lower()
want = {norm(p) for p in sys.argv[1].split()}
pins = {norm(l.split('==')[0]): l.strip() for l in sys.stdin if '==' in l}
missing = want-set(pins)
if missing: sys.exit(f'not installed in .venv: {sorted(missing)}')
print('\n'.join(pins[p] for p in sorted(want)))" "$pkgs" > .gpu/lock.txt
$py -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .gpu/whl -r .gpu/lock.txt 2>&1 | { grep -v "is ignored" || true; }
[ "$(ls .gpu/whl | wc -l)" -eq "$(wc -l < .gpu/lock.txt)" ] || { echo "a wheel is missing for .gpu/lock.txt" >&2; ls .gpu/whl >&2; exit 1; }
cp ../shared/data/mnist/*.gz .gpu/mnist/
cp ../shared/data/cifar10/cifar10-jpg.tgz .gpu/
cat .gpu/lock.txt; du -sh .gpu
