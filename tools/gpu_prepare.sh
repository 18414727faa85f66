#!/usr/bin/env bash
# Prepare what bench/gpu_check.sh needs on a lent GPU machine (Python 3.12 with torch and torchvision, no internet):
# the wheels of fastai and the packages it imports that the machine lacks, and the MNIST IDX files, in .gpu/ (ignored
# by git, carried by the device tool). Run here, then: device run `bash bench/gpu_check.sh` with carry ['.gpu'].
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu/whl .gpu/mnist
py=.venv/bin/python; [ -x "$py" ] || py=python3
$py -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 -d .gpu/whl \
  fastai==2.8.12 'fastcore>=2.2,<2.3' fastprogress==1.1.6 fastdownload==0.0.8 fasttransform==0.0.5 plum-dispatch beartype \
  python-fasthtml starlette itsdangerous python-multipart defusedxml oauthlib beautifulsoup4 soupsieve uvicorn 2>&1 | { grep -v "is ignored" || true; }
cp ../shared/data/mnist/*.gz .gpu/mnist/
du -sh .gpu
