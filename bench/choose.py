"""Choose settings without the test set: train on part of the training images, measure on the rest of them.

The held-out part comes from the training images only (a seeded split, the same every run): MNIST's 60,000 training
digits split 50,000 / 10,000, the digits bench's 1,297 training images split 997 / 300. The test sets that
`bench/accuracy.py` reports are never read. Each run is `sgan_learner` (or, with `--baseline`, `supervised_learner`)
+ `fit_one_cycle`, with the defaults unless an option changes them; the accuracy printed is the final epoch's.

    .venv/bin/python bench/choose.py mnist --seeds 0 1                       # the defaults, 10 epochs
    .venv/bin/python bench/choose.py mnist --noise 0.1 0.2 --seeds 0 1        # another noise level in the default MLP
    .venv/bin/python bench/choose.py mnist --lr 2e-2 --kw n_gen=2 --kw ema=0.99
    .venv/bin/python bench/choose.py digits --noise 0.15 0.3 --lr 1e-2 --seeds 0 1 2 3 4 5   # 60 epochs
    .venv/bin/python bench/choose.py mnist --epochs 50 --bs 256 --noise 0.3 0.5   # a longer run with bigger batches
    .venv/bin/python bench/choose.py mnist --aug 2 0 0         # shifts only: digit_tfms(2, 0, 0)
    .venv/bin/python bench/choose.py mnist --labels-of 4 --confused 5   # the 100 labels of from_mnist(seed=4), most confused pairs
    .venv/bin/python bench/choose.py mnist --kw "terms=[ConsistencyTerm(1,'ce',tfm=digit_tfms(2,20,0.2))]"   # pseudo-labels, strong views
"""
import argparse, ast, json, math, os, platform, time
from pathlib import Path
import numpy as np, torch, torch.nn as nn
from fastai.vision.all import set_seed, ClassificationInterpretation
from fastai_sgan.all import (SemiSupervisedDataLoaders, GaussianNoise, UNLABELED, default_models, digit_tfms, colour_tfms, label_subset, load_digits,
                             load_mnist, mlp_discriminator, sgan_learner, supervised_learner, ConsistencyTerm, ManifoldTerm,
                             RandomShift, SGANLoss)

MNIST = Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'

def split(task, data=None, labels_of=None):
    "Training images and labels of `task`, split into a training part and a held-out part (seeded)"
    x,y,_,_ = load_mnist(data or MNIST) if task=='mnist' else load_digits(500, 0)
    n_out = 10_000 if task=='mnist' else 300
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(123))
    if labels_of is None: return x[idx[n_out:]],y[idx[n_out:]],x[idx[:n_out]],y[idx[:n_out]]
    # the labeled images of the full-data run of seed `labels_of`, kept in the training part as its only labels
    lab = label_subset(y, N_LABELED[task], seed=labels_of)
    idx = idx[~torch.isin(idx, lab)]
    trn = torch.cat([idx[n_out:], lab])
    ytrn = torch.full((len(trn),), UNLABELED, dtype=y.dtype)
    ytrn[-len(lab):] = y[lab]
    return x[trn],ytrn,x[idx[:n_out]],y[idx[:n_out]]

N_LABELED = dict(mnist=100, digits=50)

def make_dls(task, parts, seed, device, bs=32, aug=None):
    "The loaders `from_mnist` / `from_digits` would make, on the split `parts` (`bs` unlabeled images a batch, MNIST's `digit_tfms(*aug)`)"
    kw = dict(n_labeled=N_LABELED[task], bs=bs)
    if task=='mnist': kw.update(bs_labeled=100, batch_tfms=digit_tfms(*(aug or ())))
    return SemiSupervisedDataLoaders.from_tensors(*parts, seed=seed, device=device, **kw)

def discriminator(dls, noise=None):
    "The MLP of `default_models` for `dls` with the Gaussian noise levels `noise` (input, hidden); `None` without `noise`"
    if noise is None: return None # the learner builds its default models
    shape = dls.train_ds.x.shape[1:]
    with torch.random.fork_rng(): d,_ = default_models(shape, dls.c) # only to read its layer sizes: no random draws used
    sizes = tuple(m.out_features for m in d.body.modules() if isinstance(m, nn.Linear))
    if not any(isinstance(m, GaussianNoise) for m in d.modules()):
        raise SystemExit("--noise: the default discriminator for these images has no Gaussian noise.")
    return mlp_discriminator(math.prod(shape), dls.c, sizes=sizes, noise_in=noise[0], noise_hidden=noise[1])

TFMS = dict(digit_tfms=(digit_tfms, '2,20,0.2'), colour_tfms=(colour_tfms, '0.4,2')) # transforms a `--kw` value may be written as, and an example

def kw_arg(s):
    "`name=value` → `(name, value)`, the value read as a Python literal when it is one, `digit_tfms(...)` or `colour_tfms(...)` as those transforms"
    if '=' not in s: raise argparse.ArgumentTypeError(f"{s!r}: write name=value, e.g. n_gen=2")
    k,v = s.split('=', 1)
    for name,(f,eg) in TFMS.items(): # e.g. tfm=digit_tfms(2,20,0.2)
        if not (v.startswith(f'{name}(') and v.endswith(')')): continue
        args = v[len(name)+1:-1]
        try: return k,f(*ast.literal_eval(f"({args},)" if args.strip() else "()"))
        except (ValueError, SyntaxError, TypeError) as e: raise argparse.ArgumentTypeError(f"{s!r}: {e}; write e.g. {k}={name}({eg})")
    if k=='terms': # e.g. terms=[ManifoldTerm(1e-4)] or terms=[ConsistencyTerm(1,'ce',tfm=colour_tfms())]
        ns = dict(ConsistencyTerm=ConsistencyTerm, ManifoldTerm=ManifoldTerm, RandomShift=RandomShift, **{n:f for n,(f,_) in TFMS.items()})
        try: return k,list(eval(v, {'__builtins__': {}}, ns))
        except Exception as e: raise argparse.ArgumentTypeError(f"{s!r}: {e}; write e.g. terms=[ManifoldTerm(1e-4)] or terms=[ConsistencyTerm(1,'ce',tfm=colour_tfms())]")
    try: v = ast.literal_eval(v)
    except (ValueError, SyntaxError): pass
    return k,v

def parse_kws(p, texts):
    "The `--kw` texts as a dict of arguments (`kw_arg`), or the parser `p`'s error"
    try: return dict(kw_arg(t) for t in texts)
    except argparse.ArgumentTypeError as e: p.error(f"--kw {e}")

def kws_json(kws, texts):
    "The `--kw` arguments for a JSON file: each value as read, or as written where it is not a plain value (transforms)"
    plain = lambda v: v is None or isinstance(v, (bool,int,float,str)) or (isinstance(v, (list,tuple)) and all(map(plain, v)))
    written = dict(t.split('=', 1) for t in texts)
    return {k:(v if plain(v) else written[k]) for k,v in kws.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('task', choices=['digits','mnist'])
    p.add_argument('--seeds', type=int, nargs='+', default=[0], help='seeds (the labeled subset, weights, batches)')
    p.add_argument('--epochs', type=int, default=None, help='default: 60 for digits, 10 for mnist')
    p.add_argument('--bs', type=int, default=32, help='unlabeled images per batch (default: the loaders\' 32)')
    p.add_argument('--aug', type=float, nargs=3, default=None, metavar=('SHIFT','ROTATE','ZOOM'),
                   help="MNIST's training augmentation, digit_tfms(shift, max_rotate, zoom); default: digit_tfms()'s")
    p.add_argument('--lr', type=float, default=None, help="peak lr of fit_one_cycle; default: the learner's")
    p.add_argument('--noise', type=float, nargs=2, default=None, metavar=('INPUT','HIDDEN'),
                   help="Gaussian noise of the default MLP discriminator; default: default_models' levels")
    p.add_argument('--kw', action='append', default=[], metavar='NAME=VALUE',
                   help="more arguments of sgan_learner / supervised_learner, e.g. --kw n_gen=2 or --kw \"terms=[ConsistencyTerm(1,'ce',tfm=digit_tfms(2,20,0.2))]\" (repeat the option)")
    p.add_argument('--baseline', action='store_true', help='supervised_learner instead of sgan_learner')
    p.add_argument('--data', default=None, help='MNIST IDX folder (default: ../shared/data/mnist)')
    p.add_argument('--labels-of', type=int, default=None, metavar='SEED',
                   help='label the training part with the images the full-data run of SEED labels (from_mnist / from_digits '
                        'with seed=SEED), to study that run without its test set; the held-out part never holds them')
    p.add_argument('--confused', type=int, default=0, metavar='N', help='also print the N most confused pairs (held-out)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--json', default=None, help='also write the results to this file')
    a = p.parse_args()
    kws = parse_kws(p, a.kw)
    epochs = a.epochs or (60 if a.task=='digits' else 10)
    parts = split(a.task, a.data, a.labels_of)
    kind = 'supervised' if a.baseline else 'sgan'
    print(f"{a.task}: {len(parts[0])} training / {len(parts[2])} held-out images (all from the training set), {kind}, "
          f"{epochs} epochs, batches of {a.bs}, augmentation {a.aug or 'default'}, lr {a.lr or 'default'}, noise {a.noise or 'default'}, {' '.join(a.kw)} seeds {a.seeds}"
          f"{'' if a.labels_of is None else f', the labels of seed {a.labels_of}'}; "
          f"{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__}", flush=True)
    accs,secs = [],[]
    for seed in a.seeds:
        set_seed(seed)
        dls = make_dls(a.task, parts, seed, a.device, a.bs, a.aug and (int(a.aug[0]), *a.aug[1:]))
        kw = dict(kws, discriminator=discriminator(dls, a.noise), **({'lr': a.lr} if a.lr else {}))
        learn = (supervised_learner if a.baseline else sgan_learner)(dls, **kw)
        start = time.perf_counter()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs)
        secs.append(time.perf_counter()-start)
        with learn.no_bar(): accs.append(float(learn.validate()[1]))
        print(f"  seed {seed}: held-out accuracy {accs[-1]:.4f}  {secs[-1]:.1f}s", flush=True)
        if a.confused:
            with learn.no_bar(): print('  most confused (true, predicted, count):', ClassificationInterpretation.from_learner(learn).most_confused()[:a.confused], flush=True)
    print(f"{kind} mean {100*np.mean(accs):.2f}% ± {100*np.std(accs):.2f}  ({', '.join(f'{100*x:.2f}' for x in accs)})")
    if a.json:
        Path(a.json).write_text(json.dumps(dict(task=a.task, kind=kind, epochs=epochs, bs=a.bs, aug=a.aug, lr=a.lr, noise=a.noise, kw=kws_json(kws, a.kw),
                                                seeds=a.seeds, labels_of=a.labels_of, accuracy=accs, seconds=secs), indent=1))

if __name__=='__main__': main()
