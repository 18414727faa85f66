"""The README's first example, as written, on MNIST's PNG folders: what a user who copies it gets.

    .venv/bin/python bench/headline.py                      # writes the 70,000 digits as PNGs to a temp dir first
    .venv/bin/python bench/headline.py --path ~/.fastai/data/mnist_png --epochs 20

    dls   = SemiSupervisedDataLoaders.from_folder(path, train='training', valid='testing', n_labeled=100)
    learn = sgan_learner(dls)
    learn.fit_one_cycle(20, 3e-3)

Prints the accuracy on the 10,000 test digits after the last epoch (no epoch picked on them) and the time, beside
`from_mnist(path)` (MNIST's own defaults) when `--compare` is given.
"""
import argparse, os, platform, shutil, sys, tempfile, time
from pathlib import Path
import torch
from fastai.vision.all import set_seed
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner
sys.path.insert(0, str(Path(__file__).parent))
from data_speed import write_folder

MNIST = Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'

def fit(dls, epochs, lr):
    learn = sgan_learner(dls)
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(epochs, lr)
        acc = learn.validate()[1]
    return acc, time.perf_counter()-start

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--path', default=None, help="MNIST's training/ and testing/ folders of PNGs; default: written from --mnist")
    p.add_argument('--mnist', default=str(MNIST), help='the IDX files to write the PNGs from')
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--compare', action='store_true', help='also train from_mnist(path) with its defaults, the same epochs and lr')
    a = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    tmp = None
    if a.path is None:
        tmp = Path(tempfile.mkdtemp())
        write_folder(tmp, a.mnist, 0)
    path = Path(a.path or tmp)
    try:
        set_seed(a.seed)
        dls = SemiSupervisedDataLoaders.from_folder(path, train='training', valid='testing', n_labeled=100, seed=a.seed)
        acc,secs = fit(dls, a.epochs, a.lr)
        print(f"from_folder(path, train='training', valid='testing', n_labeled=100) + sgan_learner(dls) + "
              f"fit_one_cycle({a.epochs}, {a.lr:g}): test accuracy {acc:.2%}, {secs:.0f}s ({secs/a.epochs:.1f}s per epoch)", flush=True)
        if a.compare:
            set_seed(a.seed)
            acc,secs = fit(SemiSupervisedDataLoaders.from_mnist(path, n_labeled=100, seed=a.seed), a.epochs, a.lr)
            print(f"from_mnist(path, n_labeled=100), the same: test accuracy {acc:.2%}, {secs:.0f}s ({secs/a.epochs:.1f}s per epoch)")
    finally:
        if tmp is not None: shutil.rmtree(tmp)

if __name__=='__main__': main()
