#!/usr/bin/env bash
# Every GPU figure the README claims or wants, in one call of at most 9 minutes on one H100/H200 (the `device` tool):
#   1. training speed against the plain PyTorch loop (bench/speed.py): MNIST's MLP and the conv models (SVHN-like stand-in);
#   2. MNIST-100 long runs of the defaults, 5 seeds side by side on the one GPU (bench/long_run.py, batches of 256+100);
#   3. the SVHN-like colour stand-in, SGAN vs supervised only, 2 seeds, 12 epochs, 10,000 digits (bench/colour.py), beside them.
# Prepare here first (wheels the GPU machine lacks + MNIST, into the ignored .gpu/): bash tools/gpu_prepare.sh
# then: device run  command='bash bench/gpu_check.sh'  carry=['.gpu']  timeout_s=580
# Long-run epochs: LONG_EPOCHS (default 30, what fits beside the rest in 9 minutes; 100 is the README's long run).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
OUTDIR=bench/out/gpu; mkdir -p "$OUTDIR"   # summaries are copied to the device tool's $OUT at the end
LONG_EPOCHS=${LONG_EPOCHS:-30}
T0=$(date +%s)
stamp() { echo "== $(( $(date +%s)-T0 )) s: $*"; }
[ -d .gpu/whl ] || { echo "no .gpu/whl: run 'bash tools/gpu_prepare.sh' here and carry .gpu" >&2; exit 2; }
$PY -m pip install -q --no-deps .gpu/whl/*.whl 2>&1 | tail -2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$PY -c "import torch, fastai, fastai_sgan; print('torch', torch.__version__, 'fastai', fastai.__version__, 'cuda', torch.cuda.is_available())" || exit 3
M=.gpu/mnist

stamp "speed: MNIST MLP (600 batches of 32+100 a run, best of 2 alternating)"
timeout 120 $PY bench/speed.py mnist --device cuda --batches 600 --reps 2 --mnist $M 2>&1 | grep -v Warning | tee "$OUTDIR/speed_mnist.txt"
stamp "speed: conv models, SVHN-like stand-in (100 batches of 64+64 a run)"
timeout 60 $PY bench/speed.py colour --device cuda --batches 100 --reps 2 --mnist $M 2>&1 | grep -v Warning | tee "$OUTDIR/speed_colour.txt"

stamp "MNIST-100, $LONG_EPOCHS epochs, seeds 0-4 side by side; SVHN-like stand-in beside them"
for s in 0 1 2 3 4; do
  timeout 300 $PY bench/long_run.py --device cuda --epochs $LONG_EPOCHS --bs 256 --seed $s --data $M --out "$OUTDIR/long_seed$s" \
    > "$OUTDIR/long_seed$s.log" 2>&1 &
done
timeout 300 $PY bench/colour.py svhn --device cuda --seeds 0 1 --epochs 12 --n-train 10000 --mnist $M --out "$OUTDIR/colour" --json "$OUTDIR/colour.json" 2>&1 \
  | grep -v Warning > "$OUTDIR/colour.txt" &
wait
stamp "results"
for s in 0 1 2 3 4; do echo "seed $s: $(grep -h 'final epoch' "$OUTDIR/long_seed$s.log" || echo "unfinished: $(tail -c 300 "$OUTDIR/long_seed$s/history.csv" 2>/dev/null | tail -1)")"; done
$PY - "$OUTDIR" <<'PY'
import json, sys, pathlib, statistics as st
rs = [json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob('long_seed*/result.json'))]
if rs:
    a = [100*r['accuracy'] for r in rs]
    print(f"MNIST-100 long runs: {len(rs)} seeds, {rs[0]['epochs']} epochs: {st.mean(a):.2f}% ± {st.pstdev(a):.2f} ({', '.join(f'{v:.2f}' for v in a)}); "
          f"{st.mean(r['secs_per_epoch'] for r in rs):.1f} s/epoch side by side")
PY
cat "$OUTDIR/colour.txt"
[ -n "${OUT:-}" ] && cp "$OUTDIR"/*.txt "$OUTDIR"/colour.json "$OUT"/ 2>/dev/null
stamp "done"
