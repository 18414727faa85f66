"""Throughput of the semi-supervised training loader: images/s over whole epochs.

    .venv/bin/python bench/data_speed.py [--mnist ../shared/data/mnist] [--epochs 3] [--folder-per-class 500]

Tensor path: MNIST IDX files in memory, 100 labels, bs=64 unlabeled + 64 labeled (target >= 50,000 images/s on CPU).
Folder path: fastai's URLs.MNIST layout (PNG files) written to a temp dir from the same data, decoded by PIL per item.
"""
import argparse, platform, shutil, tempfile, time, os
from pathlib import Path
import torch
from PIL import Image
from fastai_sgan.all import SemiSupervisedDataLoaders, load_mnist, loader_speed, default_device

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--mnist', default=str(Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'))
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--folder-per-class', type=int, default=500, help='training PNGs per class for the folder path')
    p.add_argument('--device', default='cpu')
    a = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {a.device}")
    dls = SemiSupervisedDataLoaders.from_mnist(a.mnist, n_labeled=100, bs=64, device=a.device)
    loader_speed(dls.train, 1)
    speed = loader_speed(dls.train, a.epochs)
    print(f"tensor path  (MNIST IDX, 60000 items, 64 unlabeled + 64 labeled per batch): {speed:,.0f} images/s "
          f"over {a.epochs} epochs  [target >= 50,000]")
    x,y,_,_ = load_mnist(a.mnist)
    tmp = Path(tempfile.mkdtemp())
    try:
        for split,n in (('training', a.folder_per_class), ('testing', 20)):
            for c in range(10):
                d = tmp/split/str(c); d.mkdir(parents=True)
                for i in (y==c).nonzero().squeeze(1)[:n].tolist(): Image.fromarray(x[i].numpy()).save(d/f'{i}.png')
        for nw in (0, os.cpu_count()):
            dls = SemiSupervisedDataLoaders.from_folder(tmp, train='training', valid='testing', n_labeled=100, bs=64,
                                                        num_workers=nw, device=a.device)
            loader_speed(dls.train, 1)
            print(f"folder path  (PNG files, {10*a.folder_per_class} items, num_workers={nw}): "
                  f"{loader_speed(dls.train, 1):,.0f} images/s")
    finally: shutil.rmtree(tmp)

if __name__=='__main__': main()
