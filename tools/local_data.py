"""Put local copies of the data sets where fastai's and torchvision's downloads look for them, so that the notebooks
run their real download cells (`torchvision.datasets.MNIST(fastai_cfg().path('data'), download=True)`) without a
network. Usage: `FASTAI_HOME=DIR python tools/local_data.py [SRC]`, SRC a folder of MNIST's four IDX `.gz` files
(default `../shared/data/mnist`). Does nothing when SRC is missing; the download cells then download."""
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

if __name__=='__main__':
    home = os.environ.get('FASTAI_HOME')
    if not home: sys.exit("Set FASTAI_HOME to the folder to fill (the tests use .fastai_home).")
    src = Path(sys.argv[1] if len(sys.argv)>1 else Path(__file__).parent.parent.parent/'shared'/'data'/'mnist')
    if not all((src/f'{n}.gz').exists() for n in MNIST): print(f"No MNIST files in {src}: nothing laid out."); sys.exit(0)
    torchvision_mnist(src, Path(home)/'data')
    print(f"MNIST laid out for torchvision in {Path(home)/'data'}")
