#!/usr/bin/env bash
# The GPU figures in one call of at most 6 minutes on one H100/H200 (the `device` tool), installation included:
#   1. host syncs a training batch as CUDA itself counts them, for every learner and option (bench/syncs.py);
#   2. MNIST's MLP, eager and with the captured step (capture=True), against the plain PyTorch loop, and fastai's own
#      cost, on the GPU (bench/speed.py mnist --capture);
#   3. the conv models (SVHN-like stand-in): images/s in fp32, with the plain loop (bench/speed.py colour --vs-plain);
#   4. MNIST-100 with the defaults (batches of 100+100), 8 epochs: seconds to 97% and 98% test accuracy (bench/long_run.py);
#   5. real CIFAR-10 (JPEG copy), 4,000 labels, the defaults: as many epochs as fit in 2 minutes, test accuracy against time (bench/cifar.py);
# then one table (bench/gpu_summary.py). Each part prints as it runs and its file in $OUT is complete when it ends, so
# a run stopped by a time limit still brings back the parts that finished.
# Prepare here first (wheels pinned to .venv's versions in .gpu/lock.txt, MNIST and the CIFAR-10 archive, in the ignored .gpu/):
#   bash tools/gpu_prepare.sh
# then: device run  command='bash bench/gpu_check.sh'  carry=['.gpu']  timeout_s=400
# (each part has its own time limit: 15 s of installation + 30 + 70 + 35 + 90 + 120 s = at most 6 minutes)
# The same parts on a CPU with tiny sizes (tests/test_bench.py runs it, so the script cannot rot):
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_MNIST=../shared/data/mnist GPU_CHECK_CIFAR=../shared/data/cifar10/cifar10-jpg.tgz \
#     PY=.venv/bin/python bash bench/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=${PY:-python3}
DEV=${GPU_CHECK_DEVICE:-cuda}
M=${GPU_CHECK_MNIST:-.gpu/mnist}
C=${GPU_CHECK_CIFAR:-.gpu/cifar10-jpg.tgz}
OUTDIR=${OUT:-bench/out/gpu}; mkdir -p "$OUTDIR"
WORK=$(mktemp -d)
T0=$(date +%s)
stamp() { echo "== $(( $(date +%s)-T0 )) s: $*"; }
if [ "$DEV" = cuda ]; then
  MB=300; CB=60; REPS=2; FLOOR=2000; EPOCHS=8; LB=; ONLY=; TL=90; TS=1; CIFAR="--budget 100"; CAP=inductor
  [ -f .gpu/lock.txt ] || { echo "no .gpu/lock.txt: run 'bash tools/gpu_prepare.sh' here and carry .gpu" >&2; exit 2; }
  # offline, only the carried wheels, each at the version of the tested .venv
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" .gpu/whl/*.whl || exit 3
  export PYTHONPATH="$WORK/site:$PWD"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else # tiny sizes: that every part runs and the table is made, not the figures
  MB=10; CB=2; REPS=1; FLOOR=50; EPOCHS=1; LB="--batches 5"; ONLY="MLP, digits"; TL=180; TS=4 # a slow CPU: longer limits
  CAP=aot_eager # compiles in seconds where inductor takes a minute
  CIFAR="--budget 1 --n-unlabeled 128 --n-labeled 100"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
$PY -c "import torch, fastai, fastai_sgan; print('torch', torch.__version__, '| fastai', fastai.__version__, '| cuda', torch.cuda.is_available())" || exit 4
run() { # run NAME SECONDS CMD...: print as it goes, keep the output in $OUTDIR/NAME.txt; the limit is SECONDS × $TS
  local name=$1 secs=$(( $2*TS )); shift 2
  stamp "$name"
  timeout "$secs" "$@" 2>&1 | grep --line-buffered -v -E "Warning|warnings.warn" | tee -a "$OUTDIR/$name.txt"
}
rm -f "$OUTDIR"/*.txt "$OUTDIR"/*.log "$OUTDIR"/*.json
run syncs 30 $PY bench/syncs.py --device $DEV --json "$OUTDIR/syncs.json" ${ONLY:+--only "$ONLY"}
run speed_mnist 70 $PY bench/speed.py mnist --device $DEV --batches $MB --reps $REPS --floor-batches $FLOOR --mnist $M --capture --capture-backend $CAP
run speed_conv 35 $PY bench/speed.py colour --device $DEV --batches $CB --reps $REPS --floor-batches $FLOOR --mnist $M --vs-plain
stamp "MNIST-100, $EPOCHS epochs, seed 0"
timeout $TL $PY bench/long_run.py --device $DEV --epochs $EPOCHS --seed 0 $LB --data $M --out "$WORK/long_seed0" 2>&1 \
  | grep --line-buffered -v -E "Warning|warnings.warn" | tee "$OUTDIR/long_seed0.log"
stamp "CIFAR-10 (JPEG copy), 4,000 labels, 2 minutes, seed 0"
export FASTAI_HOME="$WORK/fastai_home"
CIFAR_TGZ="$C" $PY tools/local_data.py "$WORK/no_mnist" >/dev/null && \
  timeout $((120*TS)) $PY bench/cifar.py --device $DEV --seeds 0 --no-baseline $CIFAR --out "$WORK/cifar" --json "$OUTDIR/cifar.json" 2>&1 \
  | grep --line-buffered -v -E "Warning|warnings.warn" | tee "$OUTDIR/cifar.log"
stamp "summary"
$PY bench/gpu_summary.py "$OUTDIR" | tee "$OUTDIR/summary.txt"
rm -rf "$WORK"
stamp "done"
