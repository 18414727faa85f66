"""Throughput of the semi-supervised training loader: images/s over whole epochs.

    .venv/bin/python bench/data_speed.py [--mnist ../shared/data/mnist] [--epochs 3] [--folder-per-class 500]
    .venv/bin/python bench/data_speed.py --folder-per-class 0 --fit   # all 70,000 digits as PNGs; one epoch of training each way

Tensor path: MNIST IDX files in memory, 100 labels, bs=64 unlabeled + 64 labeled (target >= 50,000 images/s on CPU),
without augmentation, then with `from_mnist`'s default `digit_tfms` (rotation, zoom, shifts: compute, not loading).
Folder path (no augmentation): fastai's URLs.MNIST layout (PNG files) written to a temp dir from the same data, then
either read into memory once by `from_folder` (its default for small images) or decoded by PIL per item in every
batch (`in_memory=False`, in this process and in worker processes). Then the same digits as 64×64 RGB PNGs, loaded
with `item_tfms=Resize(32)`: resized once, when read (`in_memory=True`), or in every batch. With `--fit`: one epoch of `sgan_learner` +
`fit_one_cycle` on `from_mnist(folder)` (its defaults: 32 unlabeled + 100 labeled per batch, `digit_tfms`) read each
way, and its time.
"""
import argparse, platform, shutil, tempfile, time, os
from pathlib import Path
import torch
from PIL import Image
from fastai.vision.all import Resize, set_seed
from fastai_sgan.all import SemiSupervisedDataLoaders, load_mnist, sgan_learner
from fastai_sgan.cli import _loader_speed as loader_speed

def write_folder(root, mnist, per_class, size=None, rgb=False):
    "MNIST as `training/<digit>/*.png` and `testing/<digit>/*.png`, `per_class` training images per class (0: all)"
    x,y,xt,yt = load_mnist(mnist)
    for split,xs,ys,n in (('training',x,y,per_class), ('testing',xt,yt,0 if per_class==0 else 20)):
        for c in range(10):
            d = root/split/str(c); d.mkdir(parents=True)
            idx = (ys==c).nonzero().squeeze(1).tolist()
            for i in (idx[:n] if n else idx):
                im = Image.fromarray(xs[i].numpy())
                if size: im = im.resize((size,size), Image.BILINEAR) # larger images than the model takes, like photos
                (im.convert('RGB') if rgb else im).save(d/f'{i}.png')

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--mnist', default=str(Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'))
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--folder-per-class', type=int, default=500, help='training PNGs per class for the folder path; 0: all')
    p.add_argument('--fit', action='store_true', help='also train one epoch on the folder, read each way')
    p.add_argument('--device', default='cpu')
    a = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {a.device}")
    for aug,tfms in (('no augmentation', dict(shift=0, max_rotate=0, zoom=0)), ("from_mnist's default digit_tfms", {})):
        dls = SemiSupervisedDataLoaders.from_mnist(a.mnist, n_labeled=100, bs=64, bs_labeled=64, device=a.device, **tfms)
        loader_speed(dls.train, 1)
        speed = loader_speed(dls.train, a.epochs)
        print(f"tensor path  (MNIST IDX, 60000 items, 64 unlabeled + 64 labeled per batch, {aug}): {speed:,.0f} images/s "
              f"over {a.epochs} epochs" + ("  [target >= 50,000]" if tfms else ""))
    tmp = Path(tempfile.mkdtemp())
    try:
        write_folder(tmp, a.mnist, a.folder_per_class)
        kw = dict(train='training', valid='testing', n_labeled=100, bs=64, bs_labeled=64, device=a.device)
        start = time.perf_counter()
        dls = SemiSupervisedDataLoaders.from_folder(tmp, **kw)
        n = len(dls.train_ds)
        print(f"folder path, read into memory (in_memory, the default; {n} training PNGs): read in "
              f"{time.perf_counter()-start:.1f}s, then {loader_speed(dls.train, a.epochs):,.0f} images/s")
        for nw in (0, os.cpu_count()):
            dls = SemiSupervisedDataLoaders.from_folder(tmp, **kw, in_memory=False, num_workers=nw)
            loader_speed(dls.train, 1)
            print(f"folder path, files decoded in every batch (in_memory=False, num_workers={nw}): "
                  f"{loader_speed(dls.train, 1):,.0f} images/s")
        big = tmp/'rgb64'
        write_folder(big, a.mnist, a.folder_per_class, size=64, rgb=True)
        start = time.perf_counter()
        dls = SemiSupervisedDataLoaders.from_folder(big, **kw, item_tfms=Resize(32), in_memory=True)
        print(f"64×64 RGB PNGs with item_tfms=Resize(32), resized once and kept in memory (in_memory=True): read in "
              f"{time.perf_counter()-start:.1f}s, then {loader_speed(dls.train, a.epochs):,.0f} images/s")
        for nw in (0, os.cpu_count()):
            dls = SemiSupervisedDataLoaders.from_folder(big, **kw, item_tfms=Resize(32), num_workers=nw)
            loader_speed(dls.train, 1)
            print(f"64×64 RGB PNGs with item_tfms=Resize(32), decoded and resized in every batch (the default with "
                  f"item_tfms, num_workers={nw}): {loader_speed(dls.train, 1):,.0f} images/s")
        if a.fit:
            for in_memory in (True, False):
                set_seed(0)
                start = time.perf_counter()
                dls = SemiSupervisedDataLoaders.from_mnist(tmp, device=a.device, in_memory=in_memory)
                built = time.perf_counter()-start
                learn = sgan_learner(dls)
                start = time.perf_counter()
                with learn.no_bar(), learn.no_logging():
                    learn.fit_one_cycle(1)
                    acc = learn.validate()[1]
                print(f"one epoch of sgan_learner on from_mnist(folder, in_memory={in_memory}): dls {built:.1f}s, "
                      f"training + validation {time.perf_counter()-start:.1f}s ({len(dls.train)} batches), accuracy {acc:.4f}", flush=True)
    finally: shutil.rmtree(tmp)

if __name__=='__main__': main()
