"""Colour images with the default conv models, on stand-ins made from MNIST (SVHN and CIFAR cannot be downloaded here).

    .venv/bin/python bench/colour.py padded              # supervised only, default conv discriminator, 124 steps
    .venv/bin/python bench/colour.py svhn --seeds 0 1    # SGAN vs supervised only on the SVHN-like stand-in
    .venv/bin/python bench/colour.py svhn --split        # the same on a split of the training digits (to choose settings)
    .venv/bin/python bench/colour.py svhn --split --seeds 0 --shift 2 --cons-weight 1   # shifted batches, consistency term
    .venv/bin/python bench/colour.py svhn --split --seeds 0 --man-weight 1e-4 --no-baseline  # manifold term
    .venv/bin/python bench/colour.py svhn --split --n-train 10000 --epochs 7 --n-labeled 0 --baseline-only  # every label: the ceiling
    .venv/bin/python bench/colour.py svhn --n-labeled 250   # fewer labels (25 per class): where the unlabeled data count most

`padded`: MNIST digits padded to 32×32 and repeated on 3 channels (white on black); 4,000 training digits, 1,000
labels (100 per class), the first 2,000 test digits; `supervised_learner(dls)` with the default conv discriminator and
`fit_one_cycle(2)`: 62 batches of 64 labeled digits an epoch, 124 steps. Target: ≥ 90%.

`svhn`: an SVHN-like stand-in. Each digit is padded to 32×32 and painted with a random ink colour on a random
background colour (each RGB channel uniform in [0, 1], so contrast often flips and is sometimes faint, as in SVHN's
house numbers); `--n-labeled` labels (1,000: 100 per class) among the first `--n-train` (5,000) training digits, which are all the
unlabeled pool too. `sgan_learner(dls)` and `supervised_learner(dls)` with their defaults, `fit_one_cycle(--epochs)` (6),
accuracy of the last epoch on the first `--n-test` coloured test digits (no epoch is chosen on them). With `--split`
the held-out digits are other training digits (from 50,000 on), for choosing settings without the test set.
`--shift` gives both learners training batches shifted by up to that many pixels; `--cons-weight` adds the SGAN's
consistency term (`ConsistencyTerm`), `--man-weight` (and `--man-eps`) its manifold term
(`ManifoldTerm`). Sample grids of the generator after each epoch go to
`--out`/svhn_seed{S}/. Target: SGAN ≥ supervised only + 5 points. `--n-labeled 0 --baseline-only` labels every training
digit: the ceiling that unlabeled data could reach in runs of that length. With fewer labels (`--n-labeled 250`) the
labels alone reach less and the SGAN's gain grows.
"""
import argparse, json, os, platform, time
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F
from fastai.vision.all import set_seed, L
from fastai_sgan.all import (ConsistencyTerm, ManifoldTerm, SemiSupervisedDataLoaders, load_mnist, sgan_learner, supervised_learner, SaveSamples, plot_history, RandomShift,
                             auto_precision, cpu_has_bf16, conv_discriminator, colour_tfms)

MNIST = Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'

def padded(x):
    "MNIST digits `[N,28,28]` uint8 as white-on-black 32×32 RGB uint8 images"
    return F.pad(x, (2,2,2,2))[:,None].expand(-1,3,-1,-1).contiguous()

def svhn_like(x, seed):
    "MNIST digits `[N,28,28]` uint8 as 32×32 RGB uint8 images with a random ink and background colour each"
    g = torch.Generator().manual_seed(seed)
    ink = F.pad(x.float()/255, (2,2,2,2))[:,None]
    fg,bg = torch.rand(len(x),3,1,1, generator=g),torch.rand(len(x),3,1,1, generator=g)
    return ((ink*fg + (1-ink)*bg)*255).round().byte()

def svhn_dls(seed, n_train=5_000, n_test=10_000, split=False, bs=64, device='cpu', mnist=MNIST, shift=0, n_labeled=1000, strong=False):
    "The SVHN-like stand-in: `n_labeled` labels (`None`: all) among `n_train` training digits; validation on test (or, `split`, training) digits"
    x,y,xt,yt = load_mnist(mnist)
    xv,yv = (x[50_000:60_000],y[50_000:60_000]) if split else (xt,yt)
    if split and n_train>50_000: raise ValueError("--split keeps 50,000–59,999 for validation: use --n-train 50000 or less")
    return SemiSupervisedDataLoaders.from_tensors(svhn_like(x[:n_train], 0), y[:n_train], svhn_like(xv[:n_test], 1), yv[:n_test],
                                                  n_labeled=n_labeled, seed=seed, bs=bs, device=device,
                                                  batch_tfms=(L(RandomShift(shift) if shift else None)+L(colour_tfms() if strong else None)) or None)

def run_padded(a):
    x,y,xt,yt = load_mnist(a.mnist)
    set_seed(0)
    dls = SemiSupervisedDataLoaders.from_tensors(padded(x[:4000]), y[:4000], padded(xt[:2000]), yt[:2000], n_labeled=1000,
                                                 seed=0, device=a.device)
    learn = supervised_learner(dls)
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(2)
    secs = time.perf_counter()-start
    acc = learn.recorder.values[-1][2]
    print(f"padded MNIST, 3×32×32, 1,000 labels, supervised only, default conv discriminator, {2*len(dls.train)} steps: "
          f"accuracy {100*acc:.2f}% on 2,000 test digits ({secs:.0f} s). Target ≥ 90%: {'met' if acc>=0.9 else 'missed'}")
    return dict(accuracy=acc, seconds=secs, steps=2*len(dls.train))

def run_svhn(a, seed, kind):
    set_seed(seed)
    dls = svhn_dls(seed, a.n_train, a.n_test, a.split, a.bs, a.device, a.mnist, a.shift, a.n_labeled or None,
                   strong=kind=='supervised' and a.baseline_strong)
    out = Path(a.out)/f'svhn_seed{seed}'
    disc = dict(discriminator=conv_discriminator(3, 10, 32, p=a.disc_p)) if a.disc_p else {} # the same for both learners
    if kind=='sgan':
        terms = ([ConsistencyTerm(a.cons_weight, a.cons, tfm=colour_tfms() if a.strong else None)] if a.cons_weight else []) + \
                ([ManifoldTerm(a.man_weight, a.man_eps)] if a.man_weight else [])
        learn = sgan_learner(dls, path=out, terms=terms, precision=a.precision, **disc)
        cbs = [SaveSamples('samples', n=64, nrow=8)]
    else: learn,cbs = supervised_learner(dls, path=out, precision=a.precision, **disc),[]
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, cbs=cbs)
    secs = time.perf_counter()-start
    accs = [float(v[2]) for v in learn.recorder.values]
    if kind=='sgan': plot_history(learn, out/'history.png')
    return dict(accuracy=accs[-1], per_epoch=accs, seconds=secs, batches=a.epochs*len(dls.train), precision=learn.precision)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('task', choices=['padded','svhn'])
    p.add_argument('--seeds', type=int, nargs='+', default=[0,1])
    p.add_argument('--epochs', type=int, default=6, help='svhn: epochs of fit_one_cycle')
    p.add_argument('--n-train', type=int, default=5_000, help='svhn: training digits (the unlabeled pool)')
    p.add_argument('--n-test', type=int, default=10_000, help='svhn: held-out digits')
    p.add_argument('--n-labeled', type=int, default=1000, help='svhn: labeled training digits, 100 per class; 0: every one (the ceiling, with --baseline-only)')
    p.add_argument('--bs', type=int, default=64, help='svhn: unlabeled (and labeled) images per batch')
    p.add_argument('--split', action='store_true', help='svhn: validate on training digits 50,000–59,999, not the test set')
    p.add_argument('--shift', type=int, default=0, help='svhn: train both learners on batches shifted by up to this many pixels (RandomShift)')
    p.add_argument('--cons-weight', type=float, default=0., help="svhn: the SGAN's consistency term (ConsistencyTerm's weight; second views shifted by up to 2 pixels)")
    p.add_argument('--cons', default='kl', choices=['kl','mse','ce'], help="svhn: that term's measure (ce: FixMatch-style pseudo-labels)")
    p.add_argument('--strong', action='store_true', help="svhn: colour-strong second views for the consistency term (ConsistencyTerm(tfm=colour_tfms()))")
    p.add_argument('--baseline-strong', action='store_true', help="svhn: the labels-only learner trains on batches changed by colour_tfms() too")
    p.add_argument('--disc-p', type=float, default=0., help="svhn: dropout after each block of both learners' conv discriminator")
    p.add_argument('--man-weight', type=float, default=0., help="svhn: the SGAN's manifold term (ManifoldTerm's weight)")
    p.add_argument('--man-eps', type=float, default=0.1, help="svhn: that term's step in the generator's input (man_eps)")
    p.add_argument('--baseline-only', action='store_true')
    p.add_argument('--no-baseline', action='store_true')
    p.add_argument('--device', default='cpu')
    p.add_argument('--precision', default='auto', choices=['auto','fp32','bf16'], help="svhn: both learners' precision (auto: the fastest, measured on a CPU)")
    p.add_argument('--mnist', default=MNIST, help='folder of the MNIST IDX files')
    p.add_argument('--out', default='bench/out/colour')
    p.add_argument('--json', default=None, help='also write the results to this file')
    a = p.parse_args()
    print(f"{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads), device {a.device}, "
          f"bf16 instructions: {cpu_has_bf16()}, precision {a.precision}" + (f" ({'measured: SGANLearner.to_precision' if a.device=='cpu' else auto_precision(a.device)})" if a.precision=='auto' else ''))
    if a.task=='padded': res = run_padded(a)
    else:
        where = 'training digits 50,000–59,999 (split)' if a.split else 'test digits'
        print(f"SVHN-like stand-in: {a.n_labeled or a.n_train:,} labels among {a.n_train:,} training digits, {a.n_test:,} {where}, batches of "
              f"{a.bs}+{a.bs}, {a.epochs} epochs, seeds {a.seeds}, shifts {a.shift}, consistency weight {a.cons_weight} ({a.cons}"
              f"{', colour-strong views' if a.strong else ''}), discriminator dropout {a.disc_p}, "
              f"{'labels only on colour_tfms() batches, ' if a.baseline_strong else ''}"
              f"manifold weight {a.man_weight} (step {a.man_eps})")
        res = {}
        kinds = ([] if a.baseline_only else ['sgan']) + ([] if a.no_baseline else ['supervised'])
        for kind in kinds:
            runs = []
            for s in a.seeds:
                r = run_svhn(a, s, kind)
                runs.append(r)
                print(f"  {kind:10s} seed {s}: accuracy {100*r['accuracy']:.2f}%  {r['seconds']:.0f} s "
                      f"({r['seconds']/r['batches']:.2f} s a batch); by epoch {[round(100*v,1) for v in r['per_epoch']]}", flush=True)
            accs = [r['accuracy'] for r in runs]
            res[kind] = dict(runs=runs, mean=float(np.mean(accs)), std=float(np.std(accs)))
            print(f"{kind:10s} mean {100*np.mean(accs):.2f}% ± {100*np.std(accs):.2f} ({np.mean([r['seconds'] for r in runs]):.0f} s a run)")
        if len(res)==2:
            gain = res['sgan']['mean']-res['supervised']['mean']
            print(f"gain: {100*gain:+.2f} points (target ≥ +5: {'met' if gain>=0.05 else 'missed'})")
        if 'sgan' in res: print(f"sample grids: {Path(a.out).absolute()}/svhn_seed*/samples/")
    res['settings'] = {k:(str(v) if isinstance(v, Path) else v) for k,v in vars(a).items()}
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1))

if __name__=='__main__': main()
