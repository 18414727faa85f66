"""Test accuracy of `sgan_learner` vs `supervised_learner`, with the defaults and `learn.fit_one_cycle(n_epochs)`.

    .venv/bin/python bench/accuracy.py digits            # 50 labels, 500 held out, 60 epochs, 3 seeds
    .venv/bin/python bench/accuracy.py mnist --seeds 2   # 100 labels, the 10,000 test digits, 10 epochs
    .venv/bin/python bench/accuracy.py mnist --no-baseline --kw "terms=[ManifoldTerm(1e-4)]"   # an option of sgan_learner
    .venv/bin/python bench/accuracy.py mnist --no-baseline --kw "terms=[ConsistencyTerm(1,'ce')]"   # pseudo-labels

`--precision` is `auto` by default: the fastest precision and memory format (measured on a CPU: `SGANLearner.to_precision`).
`--kw NAME=VALUE` passes more arguments to `sgan_learner` (choose them with `bench/choose.py` first); a value is read
as a Python literal, as transforms when written `digit_tfms(SHIFT,ROTATE,ZOOM)`, or as terms (`--kw "terms=[ConsistencyTerm(1,'ce',tfm=digit_tfms(2,20,0.2))]"`).

The accuracy reported is the final epoch's, on the held-out/test set (no model selection on it).
"""
import argparse, json, os, platform, time
from pathlib import Path
import numpy as np, torch
from fastai.vision.all import set_seed
from fastai_sgan.all import SemiSupervisedDataLoaders
from fastai_sgan.learner import sgan_learner, supervised_learner, auto_precision, cpu_has_bf16
from choose import parse_kws # bench/choose.py, beside this script

MNIST = Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'
ANCHORS = {'mnist': 'anchors (MNIST-100): Keras tutorial ~95%, Odena 2016 92.8% (CNN 89.5%), '
                    'Salimans et al. 2016 99.07% ± 0.065, Bad GAN 99.2%',
           'digits': 'anchor (digits-50): a plain PyTorch SGAN 88.1% vs 82.8% supervised'}

def run(task, seed, kind, epochs, device, kw=None, precision='auto'):
    set_seed(seed)
    dls = (SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=seed, device=device) if task=='digits' else
           SemiSupervisedDataLoaders.from_mnist(MNIST, n_labeled=100, seed=seed, device=device))
    learn = sgan_learner(dls, precision=precision, **(kw or {})) if kind=='sgan' else supervised_learner(dls, precision=precision)
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs)
    secs = time.perf_counter()-start
    with learn.no_bar(): acc = learn.validate()[1]
    return acc, secs

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('task', choices=['digits','mnist'])
    p.add_argument('--seeds', type=int, default=None, help='how many seeds; default: 3 for digits, 2 for mnist')
    p.add_argument('--first-seed', type=int, default=0, help='the first seed (e.g. --seeds 1 --first-seed 1: seed 1 alone)')
    p.add_argument('--epochs', type=int, default=None, help='default: 60 for digits, 10 for mnist')
    p.add_argument('--device', default='cpu')
    p.add_argument('--precision', default='auto', choices=['auto','fp32','bf16'], help="both learners' precision (auto: the fastest, measured on a CPU)")
    p.add_argument('--no-baseline', action='store_true')
    p.add_argument('--baseline-only', action='store_true')
    p.add_argument('--json', default=None, help='also write the results to this file')
    p.add_argument('--kw', action='append', default=[], metavar='NAME=VALUE',
                   help='more arguments of sgan_learner, e.g. --kw "terms=[ManifoldTerm(1e-4)]" (repeat the option)')
    a = p.parse_args()
    kws = parse_kws(p, a.kw)
    seeds = range(a.first_seed, a.first_seed+(a.seeds or (3 if a.task=='digits' else 2)))
    epochs = a.epochs or (60 if a.task=='digits' else 10)
    print(f"{a.task}: {epochs} epochs of fit_one_cycle, seeds {list(seeds)}, device {a.device}, "
          f"{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__}, bf16 instructions: {cpu_has_bf16()}, precision {a.precision}"
          + (f" ({'measured: SGANLearner.to_precision' if a.device=='cpu' else auto_precision(a.device)})" if a.precision=='auto' else '') + (f"; sgan_learner: {' '.join(a.kw)}" if a.kw else ''))
    res = {}
    for kind in ([] if a.baseline_only else ['sgan']) + ([] if a.no_baseline else ['supervised']):
        accs,secs = [],[]
        for s in seeds:
            acc,t = run(a.task, s, kind, epochs, a.device, kws, a.precision)
            accs.append(acc); secs.append(t)
            print(f"  {kind:10s} seed {s}: accuracy {acc:.4f}  {t:.1f}s ({t/epochs:.2f}s/epoch)", flush=True)
        res[kind] = dict(accs=accs, mean=float(np.mean(accs)), std=float(np.std(accs)), secs=secs)
        print(f"{kind:10s} mean {100*np.mean(accs):.2f}% ± {100*np.std(accs):.2f}  ({np.mean(secs):.1f}s per run)")
    if len(res)==2: print(f"gain: {100*(res['sgan']['mean']-res['supervised']['mean']):+.2f} points")
    print(ANCHORS[a.task])
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1))

if __name__=='__main__': main()
