import os, pytest, numpy as np
from pathlib import Path
from PIL import Image

os.environ.setdefault('MPLBACKEND', 'Agg')
if os.environ.get('PYTEST_XDIST_WORKER'): # `pytest -n 2` (tools/test.sh): one thread each, so two workers share 2 cores
    import torch
    torch.set_num_threads(1)
MNIST = Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'

@pytest.fixture(scope='module')
def digits():
    "scikit-learn's digits with 50 labels (a module's tests share them)"
    from fastai_sgan.all import SemiSupervisedDataLoaders
    return SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu')

@pytest.fixture(scope='session')
def mnist():
    "The local MNIST copy as uint8 tensors (x_train, y_train, x_test, y_test)"
    from fastai_sgan.datasets import load_mnist, is_mnist_idx
    if not is_mnist_idx(MNIST): pytest.fail(f'local MNIST not found in {MNIST}')
    return load_mnist(MNIST)

@pytest.fixture(scope='session')
def mnist_folder(mnist, tmp_path_factory):
    "fastai's URLs.MNIST layout (training/<class>/*.png, testing/<class>/*.png) with 20+5 real digits per class"
    x,y,xt,yt = mnist
    root = tmp_path_factory.mktemp('mnist_png')
    for split,xs,ys,n in (('training',x,y,20), ('testing',xt,yt,5)):
        for c in range(10):
            d = root/split/str(c); d.mkdir(parents=True)
            for i in (ys==c).nonzero().squeeze(1)[:n].tolist(): Image.fromarray(xs[i].numpy()).save(d/f'{i}.png')
    return root
