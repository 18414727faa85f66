"""The table of bench/gpu_check.sh, from the files its parts wrote to a folder.

    python bench/gpu_summary.py bench/out/gpu
"""
import json, re, sys
from pathlib import Path

def _read(p): return p.read_text() if p.exists() else ''

def first_epoch_at(log:str, target:float):
    "Seconds and epoch of the first epoch line of a long_run.py log with test accuracy >= `target`"
    for m in re.finditer(r'epoch (\d+) secs ([\d.]+) .*?accuracy ([\d.]+)', log):
        if float(m[3])>=target: return float(m[2]),int(m[1])
    return None

def summary(d:Path)->list:
    rows = []
    syncs = json.loads(_read(d/'syncs.json') or '{}')
    if syncs:
        c = syncs['counts']
        cal = [v['per_batch'] for k,v in c.items() if 'calibration' in k]
        mine = {k:v['per_batch'] for k,v in c.items() if 'calibration' not in k and 'fp16' not in k}
        worst = max(mine, key=mine.get)
        rows.append(('host syncs a training batch', f"{mine[worst]:g} at most over {len(mine)} learners/options (worst: {worst}); "
                     f"calibration: plain Learner {cal[0]:g}, with one planted .item() {cal[1]:g}" +
                     ''.join(f"; {k} {v['per_batch']:g}" for k,v in c.items() if 'fp16' in k) + f" [{syncs['how']}]"))
    sm = _read(d/'speed_mnist.txt')
    if m := re.search(r'sgan_learner \+ fit_one_cycle: ([\d,]+) images/s; plain PyTorch loop: ([\d,]+) images/s; ratio \(fastai/plain\) ([\d.]+)', sm):
        rows.append(('MNIST MLP, fastai/plain', f"{m[3]} ({m[1]} vs {m[2]} real images/s)"))
    if m := re.search(r"captured step \(capture=True\): ([\d,]+) images/s, ([\d.]+) s a batch; against eager ([\d.]+)×.*?against the plain loop ([\d.]+)×", sm):
        rows.append(('MNIST MLP, captured step', f"{m[1]} real images/s, {float(m[2])*1e3:.1f} ms a batch; {m[3]}× eager, {m[4]}× the plain loop"))
    if m := re.search(r"without the first batch: eager ([\d.]+), captured ([\d.]+) s a batch \(([\d.]+)×\)", sm):
        rows.append(('MNIST MLP ms a batch after the first, eager / captured', f"{float(m[1])*1e3:.1f} / {float(m[2])*1e3:.1f} ({m[3]}×)"))
    if m := re.search(r"first training batch, captured: ([\d., ]+) s", sm): rows.append(('MNIST MLP, first batch with capture (compiling)', f"{m[1].strip()} s"))
    if m := re.search(r"fastai's own cost on (\S+) .*?: ([\d.]+) ms a batch against ([\d.]+) ms", sm):
        rows.append((f"fastai's own cost a batch ({m[1]})", f"{m[2]} ms vs {m[3]} ms in a plain loop"))
    sc = _read(d/'speed_conv.txt')
    if m := re.search(r'sgan_learner \+ fit_one_cycle: ([\d,]+) images/s; plain PyTorch loop: ([\d,]+) images/s; ratio \(fastai/plain\) ([\d.]+)', sc):
        rows.append(('conv models fp32, real images/s', f"{m[1]} (plain loop {m[2]}, ratio {m[3]})"))
    if m := re.search(r"auto \(([^)]*)\): [\d.]+ s a batch, ([\d,]+) images/s", sc):
        rows.append(("conv models precision='auto', real images/s", f"{m[2]} ({m[1]})"))
    if m := re.search(r"speed-up of precision='auto' over fp32: ([\d.]+)×", sc): rows.append(("conv models, speed-up of 'auto' over fp32", f"{m[1]}×"))
    logs = [_read(p) for p in sorted(d.glob('long_seed*.log'))]
    for t in (0.97, 0.98):
        got = [first_epoch_at(l, t) for l in logs]
        txt = ', '.join(f"{s:.0f} s (epoch {e})" if s is not None else 'not reached' for s,e in (g or (None,None) for g in got))
        if logs: rows.append((f"MNIST-100 seconds to {100*t:.0f}%", f"{txt} (seed{'s' if len(logs)>1 else ''} {', '.join(str(i) for i in range(len(logs)))}{', side by side' if len(logs)>1 else ''})"))
    for l in logs:
        if m := re.search(r'final epoch: test accuracy ([\d.]+)%.*?\((\S+)s/epoch\)', l): rows.append(('MNIST-100 final', f"{m[1]}% ({m[2]} s an epoch)"))
    cif = _read(d/'cifar.log')
    if eps := re.findall(r'epoch (\d+) secs ([\d.]+) test accuracy ([\d.]+)%', cif):
        plan = re.search(r'([\d.]+) s a batch, (\d+) batches an epoch', cif)
        rows.append(('CIFAR-10 (JPEG copy) 4,000 labels, test accuracy against seconds',
                     ', '.join(f"{float(a):.1f}% at {float(s):.0f} s" for _,s,a in eps) + (f" ({plan[1]} s a batch, {plan[2]} batches an epoch)" if plan else '')))
    return rows

if __name__=='__main__':
    rows = summary(Path(sys.argv[1]))
    w = max((len(k) for k,_ in rows), default=0)
    print('\n'.join(f"{k:{w}s}  {v}" for k,v in rows) if rows else 'no results')
