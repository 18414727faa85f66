"""Put local copies of the data sets where fastai's and torchvision's downloads look for them, so that the notebooks
run their real download cells (`torchvision.datasets.MNIST(fastai_cfg().path('data'), download=True)`,
`untar_data(URLs.CIFAR)`) without a network. Usage: `FASTAI_HOME=DIR python tools/local_data.py [--png] [SRC]`, SRC a
folder of MNIST's four IDX `.gz` files (default `../shared/data/mnist`). `--png` also writes fastai's
`untar_data(URLs.MNIST)` layout (`data/mnist_png/{training,testing}/<digit>/<n>.png`, 70,000 files: for the `#| slow`
cells that read it). CIFAR-10 comes from `../shared/data/cifar10/cifar10-jpg.tgz` (or `$CIFAR_TGZ`): extracted to
`data/cifar10/{train,test}/<class>/*.jpg`, where `untar_data(URLs.CIFAR)` finds it and downloads nothing. Does
nothing for a data set whose source is missing; the download cells then download."""
import gzip, os, shutil, sys, tarfile
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent/'shared'/'data'

MNIST = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')

def torchvision_mnist(src:Path, data:Path):
    "torchvision's MNIST layout, `data/MNIST/raw/<IDX files>`, from the `.gz` files in `src`"
    raw = data/'MNIST'/'raw'
    raw.mkdir(parents=True, exist_ok=True)
    for name in MNIST:
        if (raw/name).exists(): continue
        with gzip.open(src/f'{name}.gz') as i, open(raw/f'{name}.part', 'wb') as o: shutil.copyfileobj(i, o)
        (raw/f'{name}.part').rename(raw/name)

def fastai_mnist_png(src:Path, data:Path):
    "fastai's `URLs.MNIST` layout, `data/mnist_png/{training,testing}/<digit>/<n>.png`, from the `.gz` files in `src`"
    from PIL import Image
    from fastai_sgan.datasets import load_mnist
    dst = data/'mnist_png'
    if (dst/'testing'/'9').is_dir(): return
    tmp = data/'mnist_png.part'
    shutil.rmtree(tmp, ignore_errors=True)
    x,y,xt,yt = load_mnist(src)
    for split,xs,ys in (('training',x,y), ('testing',xt,yt)):
        for c in range(10): (tmp/split/str(c)).mkdir(parents=True)
        for i,(im,c) in enumerate(zip(xs.numpy(),ys.tolist())): Image.fromarray(im).save(tmp/split/str(c)/f'{i}.png')
    tmp.rename(dst)

def fastai_cifar(tgz:Path, data:Path):
    "fastai's `URLs.CIFAR` layout, `data/cifar10/{train,test}/<class>/*`, from the archive `tgz` (whose top folder is `cifar10/`)"
    dst = data/'cifar10'
    if (dst/'test').is_dir() and (dst/'train').is_dir(): return
    tmp = data/'cifar10.part'
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(tgz) as t: t.extractall(tmp, filter='data')
    (tmp/'cifar10').rename(dst) # whole or not at all: a cut-off extraction leaves only the .part folder
    tmp.rmdir()

if __name__=='__main__':
    home = os.environ.get('FASTAI_HOME')
    if not home: sys.exit("Set FASTAI_HOME to the folder to fill (the tests use .fastai_home).")
    args = [a for a in sys.argv[1:] if a!='--png']
    src,data = Path(args[0] if args else SHARED/'mnist'),Path(home)/'data'
    tgz = Path(os.environ.get('CIFAR_TGZ', SHARED/'cifar10'/'cifar10-jpg.tgz'))
    if tgz.exists():
        fastai_cifar(tgz, data)
        print(f"CIFAR-10 laid out for fastai's untar_data(URLs.CIFAR) in {data/'cifar10'}")
    else: print(f"No CIFAR-10 archive at {tgz}: not laid out.")
    if not all((src/f'{n}.gz').exists() for n in MNIST): print(f"No MNIST files in {src}: nothing laid out."); sys.exit(0)
    torchvision_mnist(src, data)
    print(f"MNIST laid out for torchvision in {data}")
    if '--png' in sys.argv:
        fastai_mnist_png(src, data)
        print(f"MNIST laid out for fastai's untar_data(URLs.MNIST) in {data/'mnist_png'}")
