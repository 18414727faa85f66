"""Put local copies of the data sets where fastai's and torchvision's downloads look for them, so that the notebooks
run their real download cells (`torchvision.datasets.MNIST(fastai_cfg().path('data'), download=True)`) without a
network. Usage: `FASTAI_HOME=DIR python tools/local_data.py [--png] [SRC]`, SRC a folder of MNIST's four IDX `.gz`
files (default `../shared/data/mnist`). `--png` also writes fastai's `untar_data(URLs.MNIST)` layout
(`data/mnist_png/{training,testing}/<digit>/<n>.png`, 70,000 files: for the `#| slow` cells that read it). Does nothing
when SRC is missing; the download cells then download."""
import gzip, os, shutil, sys
from pathlib import Path

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

if __name__=='__main__':
    home = os.environ.get('FASTAI_HOME')
    if not home: sys.exit("Set FASTAI_HOME to the folder to fill (the tests use .fastai_home).")
    args = [a for a in sys.argv[1:] if a!='--png']
    src = Path(args[0] if args else Path(__file__).parent.parent.parent/'shared'/'data'/'mnist')
    if not all((src/f'{n}.gz').exists() for n in MNIST): print(f"No MNIST files in {src}: nothing laid out."); sys.exit(0)
    torchvision_mnist(src, Path(home)/'data')
    print(f"MNIST laid out for torchvision in {Path(home)/'data'}")
    if '--png' in sys.argv:
        fastai_mnist_png(src, Path(home)/'data')
        print(f"MNIST laid out for fastai's untar_data(URLs.MNIST) in {Path(home)/'data'/'mnist_png'}")
