"Semi-supervised data: label masking, subsets, constructors on real data, bad input"
import hashlib, pytest, torch, numpy as np, pandas as pd
from fastai.vision.all import (DataBlock, ImageBlock, CategoryBlock, RegressionBlock, PILImageBW, GrandparentSplitter,
                               get_image_files, parent_label, tensor)
from fastai_sgan.all import SemiSupervisedDataLoaders, UNLABELED, UNLABELED_NAME, load_digits, load_mnist

def _key(img):
    "Hash of an image's pixels, to find which item a batch row came from"
    return hashlib.sha1((img.float()*255).round().byte().cpu().numpy().tobytes()).hexdigest()

def check_masking(dls, train_imgs, train_labels):
    "Every training batch: `bs` unlabeled rows with target UNLABELED, then labeled rows of the labeled subset with their true label"
    index = {}
    for i,img in enumerate(train_imgs): index.setdefault(_key(img), []).append(i)
    lab = set(dls.labeled_idxs.tolist())
    n_batches = 0
    for xb,yb in dls.train:
        n_batches += 1
        bs = dls.train.bs
        assert (yb[:bs]==UNLABELED).all()
        assert len(yb)-bs==dls.train.bs_labeled and (yb[bs:]!=UNLABELED).all()
        for img,t in zip(xb[bs:], yb[bs:]):
            idxs = [i for i in index[_key(img)] if i in lab]
            assert idxs, 'a labeled row is not in the labeled subset'
            assert int(t) in {int(train_labels[i]) for i in idxs}
    assert n_batches==len(dls.train)>0
    return n_batches

def test_subset_deterministic_and_balanced(mnist):
    x,y,xt,yt = mnist
    a = SemiSupervisedDataLoaders.from_tensors(x, y, xt, yt, n_labeled=100, seed=3, device='cpu')
    b = SemiSupervisedDataLoaders.from_tensors(x, y, xt, yt, n_labeled=100, seed=3, device='cpu')
    c = SemiSupervisedDataLoaders.from_tensors(x, y, xt, yt, n_labeled=100, seed=4, device='cpu')
    assert torch.equal(a.labeled_idxs, b.labeled_idxs)
    assert not torch.equal(a.labeled_idxs, c.labeled_idxs)
    assert y[a.labeled_idxs].bincount().tolist()==[10]*10
    assert len(a.unlabeled_idxs)==60000

def test_unbalanced_and_exclusive_pool(mnist):
    x,y,xt,yt = mnist
    dls = SemiSupervisedDataLoaders.from_tensors(x, y, xt, yt, n_labeled=37, balanced=False, include_labeled=False, device='cpu')
    assert dls.n_labeled==37 and len(dls.unlabeled_idxs)==60000-37
    assert not set(dls.labeled_idxs.tolist()) & set(dls.unlabeled_idxs.tolist())

def test_mnist_masking_and_epoch(mnist):
    x,y,xt,yt = mnist
    dls = SemiSupervisedDataLoaders.from_mnist(MNIST_PATH, n_labeled=100, bs=500, bs_labeled=50, shift=0, max_rotate=0, zoom=0, device='cpu')
    assert len(dls.train)==120
    n = check_masking(dls, x[:,None].float()/255, y)
    assert n==120
    yv = torch.cat([yb for _,yb in dls.valid])
    assert torch.equal(yv.cpu(), yt)

def test_labeled_cycle_covers_subset(mnist):
    "With 10 labels and 8 labeled slots per batch, every labeled item comes back each pass, reshuffled"
    x,y,xt,yt = mnist
    dls = SemiSupervisedDataLoaders.from_tensors(x[:400], y[:400], xt[:50], yt[:50], n_labeled=10, bs=40, bs_labeled=8, device='cpu')
    idx = {_key(x[i][None].float()/255): i for i in dls.labeled_idxs.tolist()}
    seen = [idx[_key(img)] for xb,yb in dls.train for img in xb[40:]]
    assert len(seen)==80
    counts = pd.Series(seen).value_counts()
    assert set(counts.index)==set(dls.labeled_idxs.tolist()) and counts.min()==8 and counts.max()==8

def test_unlabeled_targets_in_y(mnist):
    "Items whose label is -1 in `y` are never in the labeled subset, and still in the pool"
    x,y,xt,yt = mnist
    y = y[:1000].clone(); y[::2] = UNLABELED
    dls = SemiSupervisedDataLoaders.from_tensors(x[:1000], y, xt[:100], yt[:100], n_labeled=50, device='cpu')
    assert (y[dls.labeled_idxs]!=UNLABELED).all()
    assert len(dls.unlabeled_idxs)==1000

def test_digits():
    dls = SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu')
    x,y,xv,yv = load_digits()
    check_masking(dls, x[:,None], y)
    assert dls.c==10 and len(dls.valid_ds)==500

def test_folder(mnist_folder):
    dls = SemiSupervisedDataLoaders.from_folder(mnist_folder, train='training', valid='testing', n_labeled=30, bs=16,
                                                bs_labeled=8, device='cpu', num_workers=0)
    assert dls.vocab==[str(i) for i in range(10)] and len(dls.train_ds)==200 and len(dls.valid_ds)==50
    xb,yb = dls.one_batch()
    assert xb.shape==(24,1,28,28) and xb.dtype==torch.float32
    imgs = torch.stack([tensor(np.array(dls.train_ds[i][0])) for i in range(200)]).float()[:,None]/255
    labels = tensor([int(dls.train_ds[i][1]) for i in range(200)])
    check_masking(dls, imgs, labels)
    assert labels[dls.labeled_idxs].bincount().tolist()==[3]*10

def test_folder_in_memory_matches_files(mnist_folder, mnist):
    "MNIST's PNG layout read into memory: the real digits and labels, the same labeled subset and batches as from the files"
    from fastai_sgan.tensors import TensorImageDataset, read_images
    mem = SemiSupervisedDataLoaders.from_mnist(mnist_folder, n_labeled=30, bs=16, shift=0, max_rotate=0, zoom=0, device='cpu')
    fil = SemiSupervisedDataLoaders.from_mnist(mnist_folder, n_labeled=30, bs=16, shift=0, max_rotate=0, zoom=0, device='cpu',
                                               in_memory=False, num_workers=0)
    assert isinstance(mem.train_ds, TensorImageDataset) and not isinstance(fil.train_ds, TensorImageDataset)
    assert mem.vocab==fil.vocab==[str(i) for i in range(10)]
    assert torch.equal(mem.labeled_idxs, fil.labeled_idxs)
    x,y,xt,yt = mnist
    files = get_image_files(mnist_folder, folders=['training'])
    ids = [int(f.stem) for f in files]
    assert torch.equal(mem.train_ds.x[:,0], x[ids]) and torch.equal(mem.train_ds.y, y[ids])
    assert torch.equal(mem.train_ds.x, read_images(files, PILImageBW, n_workers=2)) # the same in worker processes
    assert torch.equal(torch.cat([b for _,b in mem.valid]), torch.cat([b for _,b in fil.valid]))
    assert torch.equal(torch.cat([a for a,_ in mem.valid]), torch.cat([a for a,_ in fil.valid]))

def test_folder_sizes_and_labels(tmp_path, mnist_folder):
    "Bad folders for reading into memory: one clear message each"
    import shutil
    from PIL import Image
    root = tmp_path/'data'; shutil.copytree(mnist_folder, root)
    f = next((root/'training'/'3').glob('*.png'))
    Image.open(f).resize((30,30)).save(f)
    with pytest.raises(ValueError, match='differ in size.*Resize'):
        SemiSupervisedDataLoaders.from_folder(root, train='training', valid='testing', device='cpu')
    f.unlink()
    (root/'testing'/'x').mkdir(); shutil.copy(next((root/'testing'/'3').glob('*.png')), root/'testing'/'x'/'a.png')
    with pytest.raises(ValueError, match="Label 'x' was not included in the training dataset"):
        SemiSupervisedDataLoaders.from_folder(root, train='training', valid='testing', device='cpu')

def test_folder_workers(mnist_folder):
    "Worker processes split the batches without repeating or losing any"
    dls = SemiSupervisedDataLoaders.from_folder(mnist_folder, train='training', valid='testing', n_labeled=10, bs=20,
                                                device='cpu', num_workers=2, in_memory=False)
    assert sum(1 for _ in dls.train)==10

def test_folder_unlabeled_dir(mnist_folder, tmp_path):
    import shutil
    root = tmp_path/'data'; shutil.copytree(mnist_folder, root)
    (root/'training'/'unlabeled').mkdir()
    for f in list((root/'training'/'3').glob('*.png'))[:5]: shutil.move(f, root/'training'/'unlabeled'/f.name)
    dls = SemiSupervisedDataLoaders.from_folder(root, train='training', valid='testing', device='cpu', num_workers=0)
    assert dls.vocab==[str(i) for i in range(10)]
    assert dls.n_labeled==195 and len(dls.unlabeled_idxs)==200

def test_df(mnist_folder):
    files = get_image_files(mnist_folder)
    df = pd.DataFrame({'name': [str(f.relative_to(mnist_folder)) for f in files],
                       'digit': [f.parent.name for f in files], 'valid': [f.parts[-3]=='testing' for f in files]})
    df.loc[(~df.valid) & (np.arange(len(df))%4==0), 'digit'] = np.nan
    dls = SemiSupervisedDataLoaders.from_df(df, mnist_folder, fn_col='name', label_col='digit', valid_col='valid',
                                            n_labeled=20, bs=16, device='cpu', num_workers=0)
    assert len(dls.train_ds)==200 and len(dls.valid_ds)==50 and dls.c==10
    train_rows = df[~df.valid].reset_index(drop=True)
    assert train_rows.digit.iloc[dls.labeled_idxs.numpy()].notna().all()
    xb,yb = dls.one_batch()
    assert (yb[:16]==UNLABELED).all() and (yb[16:]!=UNLABELED).all()
    dls.show_batch(max_n=4)

def test_dblock(mnist_folder):
    dblock = DataBlock(blocks=(ImageBlock(PILImageBW), CategoryBlock), get_items=get_image_files,
                       splitter=GrandparentSplitter('training','testing'), get_y=parent_label)
    dls = SemiSupervisedDataLoaders.from_dblock(dblock, mnist_folder, n_labeled=10, bs=8, device='cpu', num_workers=0)
    assert dls.n_labeled==10 and dls.c==10
    xb,yb = dls.one_batch()
    assert xb.shape==(16,1,28,28)

def test_show_batch_marks_unlabeled():
    dls = SemiSupervisedDataLoaders.from_digits(device='cpu')
    *_,its = dls.train.show_batch(max_n=6, show=False)
    titles = [str(o[1]) for o in its][:6]
    assert titles[1::2]==[UNLABELED_NAME]*3 and UNLABELED_NAME not in titles[::2]
    assert all(t in [str(v) for v in dls.vocab] for t in titles[::2])

@pytest.mark.parametrize('kwargs,msg', [
    (dict(n_labeled=2000), 'more than the 1297 labeled'),
    (dict(n_labeled=5), 'smaller than the number of classes'),
    (dict(n_labeled=55), 'not divisible'),
    (dict(n_labeled=1290), 'fewer than its share'),
    (dict(bs=0), 'bs=0'),
    (dict(bs=-4), 'bs=-4'),
    (dict(bs_labeled=0), 'bs_labeled=0'),
    (dict(bs=5000), 'larger than the unlabeled pool'),
])
def test_bad_dls_args(kwargs, msg):
    with pytest.raises(ValueError, match=msg): SemiSupervisedDataLoaders.from_digits(device='cpu', **kwargs)

def test_bad_tensors():
    x,y,xv,yv = load_digits()
    f = SemiSupervisedDataLoaders.from_tensors
    with pytest.raises(ValueError, match='lengths must agree'): f(x, y[:-1], xv, yv)
    with pytest.raises(ValueError, match='lengths must agree'): f(x, y, xv[:-3], yv)
    with pytest.raises(ValueError, match='No item has a label'): f(x, torch.full_like(y, UNLABELED), xv, yv)
    with pytest.raises(ValueError, match='validation set must be fully labeled'): f(x, y, xv, torch.full_like(yv, UNLABELED))
    with pytest.raises(ValueError, match='integer class'): f(x, y.float()+0.5, xv, yv)
    with pytest.raises(ValueError, match='holds -3'): f(x, y-3, xv, yv)
    with pytest.raises(ValueError, match='expected'): f(x.view(len(x), -1), y, xv, yv)
    with pytest.raises(ValueError, match='channels-last'): f(x[...,None].expand(-1,-1,-1,3), y, xv[...,None].expand(-1,-1,-1,3), yv)
    with pytest.raises(ValueError, match='at least 2 classes'): f(x, torch.zeros_like(y), xv, torch.zeros_like(yv))
    with pytest.raises(ValueError, match='vocab has 3'): f(x, y, xv, yv, vocab=['a','b','c'])

def test_bad_folders(tmp_path, mnist_folder):
    with pytest.raises(ValueError, match='does not exist'): SemiSupervisedDataLoaders.from_folder(tmp_path)
    (tmp_path/'train'/'a').mkdir(parents=True); (tmp_path/'valid'/'a').mkdir(parents=True)
    with pytest.raises(ValueError, match='No images found'): SemiSupervisedDataLoaders.from_folder(tmp_path)
    with pytest.raises(ValueError, match='not divisible'):
        SemiSupervisedDataLoaders.from_folder(mnist_folder, train='training', valid='testing', n_labeled=15, device='cpu')
    with pytest.raises(ValueError, match='neither the MNIST IDX files'): SemiSupervisedDataLoaders.from_mnist(tmp_path)
    with pytest.raises(ValueError, match='does not exist'): load_mnist(tmp_path/'nope')

def test_bad_df(mnist_folder):
    files = get_image_files(mnist_folder)
    df = pd.DataFrame({'fn': [str(f.relative_to(mnist_folder)) for f in files], 'label': [f.parent.name for f in files],
                       'is_valid': [f.parts[-3]=='testing' for f in files]})
    with pytest.raises(ValueError, match='empty'): SemiSupervisedDataLoaders.from_df(df.iloc[:0], mnist_folder)
    with pytest.raises(ValueError, match="Column 'lbl'"): SemiSupervisedDataLoaders.from_df(df, mnist_folder, label_col='lbl')
    bad = df.copy(); bad.loc[bad.is_valid.values.nonzero()[0][:2], 'label'] = None
    with pytest.raises(ValueError, match='validation rows have no label'):
        SemiSupervisedDataLoaders.from_df(bad, mnist_folder, valid_col='is_valid')
    none = df.copy(); none.loc[~none.is_valid, 'label'] = None
    with pytest.raises(ValueError, match='No item has a label'):
        SemiSupervisedDataLoaders.from_df(none, mnist_folder, valid_col='is_valid', device='cpu', num_workers=0)

def test_dblock_missing_labels_needs_masked_block(mnist_folder):
    files = get_image_files(mnist_folder)
    dblock = DataBlock(blocks=(ImageBlock(PILImageBW), CategoryBlock), splitter=GrandparentSplitter('training','testing'),
                       get_y=lambda f: float('nan') if f.name.startswith('1') and f.parts[-3]=='training' else f.parent.name)
    with pytest.raises(ValueError, match='MaskedCategoryBlock'):
        SemiSupervisedDataLoaders.from_dblock(dblock, files, device='cpu', num_workers=0)
    dblock = DataBlock(blocks=(ImageBlock(PILImageBW), RegressionBlock), splitter=GrandparentSplitter('training','testing'),
                       get_y=lambda f: float(f.parent.name))
    with pytest.raises(ValueError, match='single category'):
        SemiSupervisedDataLoaders.from_dblock(dblock, files, device='cpu', num_workers=0)

from conftest import MNIST as MNIST_PATH

def _load_in_cache(cache): return tuple(t.shape for t in load_mnist(MNIST_PATH, cache=cache))

def test_load_mnist_processes_side_by_side(tmp_path):
    "Processes decompressing into one empty cache at once each read whole files (benchmarks run seeds side by side)"
    import multiprocessing as mp
    with mp.get_context('spawn').Pool(3) as pool: shapes = pool.map(_load_in_cache, [tmp_path]*3)
    assert all(s==((60000,28,28),(60000,),(10000,28,28),(10000,)) for s in shapes)
    assert sorted(p.name for p in (tmp_path/'MNIST'/'raw').iterdir()) == sorted(
        ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'])

def test_mnist_bad_augmentation():
    "Impossible augmentation settings stop `from_mnist` with one clear message, before any data is read"
    with pytest.raises(ValueError, match='zoom=1.0'): SemiSupervisedDataLoaders.from_mnist('/nonexistent', zoom=1.)
    with pytest.raises(ValueError, match='max_rotate=-5'): SemiSupervisedDataLoaders.from_mnist('/nonexistent', max_rotate=-5)

def test_folder_rgb_in_memory(mnist, tmp_path):
    "32×32 RGB PNGs (MNIST digits coloured and padded, as a stand-in for SVHN/CIFAR folders) read into memory as `[N,3,32,32]`"
    from PIL import Image
    from fastai_sgan.tensors import TensorImageDataset
    x,y,_,_ = mnist
    for split,rng in (('train',range(0,60)), ('valid',range(60,80))):
        for i in rng:
            d = tmp_path/split/str(int(y[i])); d.mkdir(parents=True, exist_ok=True)
            a = np.zeros((32,32,3), dtype=np.uint8); a[2:30,2:30,0] = x[i].numpy(); a[2:30,2:30,2] = 255-x[i].numpy()
            Image.fromarray(a).save(d/f'{i}.png')
    kw = dict(bs=8, bs_labeled=8, device='cpu')
    mem = SemiSupervisedDataLoaders.from_folder(tmp_path, **kw)
    fil = SemiSupervisedDataLoaders.from_folder(tmp_path, in_memory=False, num_workers=0, **kw)
    assert isinstance(mem.train_ds, TensorImageDataset) and mem.train_ds.x.shape==(60,3,32,32)
    files = get_image_files(tmp_path, folders=['train'])
    i = 7; red = mem.train_ds.x[i,0,2:30,2:30]
    assert torch.equal(red, x[int(files[i].stem)]) and torch.equal(mem.train_ds.x[i,2,2:30,2:30], 255-red)
    assert (mem.train_ds.x[i,1]==0).all()
    assert torch.equal(torch.cat([a for a,_ in mem.valid]), torch.cat([a for a,_ in fil.valid]))
    assert mem.valid.one_batch()[0].shape[1:]==(3,32,32)
    img = Image.open(files[i])
    b = mem.test_dl([files[i], img]).one_batch()[0] # a file and a PIL image, read as the training images were
    assert b.shape==(2,3,32,32) and torch.equal(b[0], b[1]) and torch.allclose(b[0], mem.train_ds.x[i].float()/255)
