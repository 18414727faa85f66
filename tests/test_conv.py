"Colour images: the default conv models learn, any size trains with the defaults, pretrained bodies, data-dependent init"
import pytest, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
from fastai.vision.all import set_seed, Resize, resnet18, load_learner
from fastai_sgan.all import SemiSupervisedDataLoaders
from fastai_sgan.models import conv_discriminator, conv_generator, mlp_discriminator, SGANDiscriminator
from fastai_sgan.learner import sgan_learner, supervised_learner

def _padded(x): return F.pad(x, (2,2,2,2))[:,None].expand(-1,3,-1,-1).contiguous()

def _coloured(x, seed):
    "32×32 RGB digits with a random ink and background colour each (bench/colour.py's SVHN-like stand-in)"
    g = torch.Generator().manual_seed(seed)
    ink = F.pad(x.float()/255, (2,2,2,2))[:,None]
    fg,bg = torch.rand(len(x),3,1,1, generator=g),torch.rand(len(x),3,1,1, generator=g)
    return ((ink*fg + (1-ink)*bg)*255).round().byte()

def test_default_conv_discriminator_learns(mnist):
    "Supervised only, the default conv discriminator on 3×32×32 digits: far above chance in 40 steps"
    x,y,xt,yt = mnist
    set_seed(0)
    dls = SemiSupervisedDataLoaders.from_tensors(_padded(x[:1280]), y[:1280], _padded(xt[:500]), yt[:500], n_labeled=500,
                                                 bs=32, device='cpu')
    learn = supervised_learner(dls)
    assert isinstance(learn.model.body[0].parametrizations.weight.original0, nn.Parameter) # the conv discriminator, weight-normed
    learn.fit_one_cycle(1)
    assert len(dls.train)==40
    assert learn.recorder.values[-1][2]>0.6 # chance: 0.1

def test_default_conv_sgan_learns_colour(mnist):
    "The SGAN with its defaults on coloured digits: finite losses, all parts logged, far above chance"
    x,y,xt,yt = mnist
    set_seed(0)
    dls = SemiSupervisedDataLoaders.from_tensors(_coloured(x[:1280], 0), y[:1280], _coloured(xt[:500], 1), yt[:500],
                                                 n_labeled=500, bs=32, device='cpu')
    learn = sgan_learner(dls)
    learn.fit_one_cycle(2)
    vals = learn.recorder.values[-1]
    assert all(torch.isfinite(torch.tensor(float(v))) for v in vals)
    assert vals[2]>0.3, vals # chance: 0.1
    assert learn.model.generator.sample(3).shape==(3,3,32,32)

def test_wn_init_default_for_conv(mnist):
    "`sgan_learner` initializes a conv discriminator from data by default (not an MLP), and `wn_init=False` turns it off"
    x,y,xt,yt = mnist
    dls = SemiSupervisedDataLoaders.from_tensors(_padded(x[:256]), y[:256], _padded(xt[:64]), yt[:64], n_labeled=50,
                                                 bs=64, device='cpu')
    xb = dls.one_batch()[0]
    def first_std(learn):
        with torch.no_grad(): return learn.model.disc.body[0](xb).std((0,2,3))
    set_seed(0)
    assert torch.allclose(first_std(sgan_learner(dls)), torch.ones(32), atol=0.15) # the first conv: unit scale per channel
    set_seed(0)
    assert first_std(sgan_learner(dls, wn_init=False)).mean()<0.5 # PyTorch's initialization: smaller
    logits = sgan_learner(dls).model.disc.eval().logits(xb)[0]
    assert 0.05<logits.std(0).mean()<0.2 # the head starts at `last_scale` 0.1
    learn = sgan_learner(dls) # conv presets: L1 feature matching (Salimans' CIFAR/SVHN), generator lr × 3
    assert (learn.loss_func.fm_p,learn.sgan_trainer.gen_lr_mult)==(1,3.)
    learn = sgan_learner(dls, discriminator=mlp_discriminator(3*32*32, 10))
    assert (learn.loss_func.fm_p,learn.sgan_trainer.gen_lr_mult)==(2,1.)

def _write_photos(root, x, y, sizes):
    "PNG 'photos' of coloured digits, of several sizes, in train/<class>, train/unlabeled and valid/<class>"
    imgs = _coloured(x, 0).permute(0,2,3,1).numpy()
    for i,(im,c) in enumerate(zip(imgs, y.tolist())):
        split = 'valid' if i%5==0 else 'train'
        folder = root/split/('unlabeled' if split=='train' and i%3 else str(c))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).resize(sizes[i%len(sizes)]).save(folder/f'{i}.png')

def test_photo_folder_64_trains_with_defaults(mnist, tmp_path):
    "A folder of colour images of mixed sizes, `item_tfms=Resize(64)`: `sgan_learner(dls)` with no other argument"
    x,y,_,_ = mnist
    _write_photos(tmp_path, x[:150], y[:150], [(64,64), (80,72), (100,100)])
    dls = SemiSupervisedDataLoaders.from_folder(tmp_path, item_tfms=Resize(64), bs=8, device='cpu')
    assert dls.one_batch()[0].shape==(16,3,64,64)
    set_seed(0)
    learn = sgan_learner(dls, path=tmp_path)
    assert learn.model.generator.sample(2).shape==(2,3,64,64)
    assert [m.out_channels for m in learn.model.disc.modules() if isinstance(m, nn.Conv2d)][::2]==[32,64,128,256] # 64→4 px
    learn.fit_one_cycle(1)
    assert all(torch.isfinite(torch.tensor(float(v))) for v in learn.recorder.values[-1])
    learn.export('photos.pkl')
    clf = load_learner(tmp_path/'photos.pkl')
    f = next((tmp_path/'valid').rglob('*.png'))
    assert clf.predict(f)[0] in dls.vocab

@pytest.mark.parametrize('size', [48, 96, 128])
def test_other_sizes_build_and_step(size):
    "Default models for 48, 96 and 128 px colour images: shapes agree, one training batch runs"
    set_seed(0)
    n = 24
    x,y = torch.randint(0, 256, (n,3,size,size), dtype=torch.uint8),torch.arange(n)%3
    dls = SemiSupervisedDataLoaders.from_tensors(x, y, x[:6], y[:6], n_labeled=6, bs=4, device='cpu')
    learn = sgan_learner(dls)
    assert learn.model.generator.sample(2).shape==(2,3,size,size)
    learn.fit(1)
    assert learn.get_preds()[0].shape==(6,3)

def test_resnet_body_sgan(mnist):
    "`sgan_learner(dls, arch=resnet18)` (pretrained=False: no download here): a generator of the data's size, trains, predicts"
    x,y,xt,yt = mnist
    dls = SemiSupervisedDataLoaders.from_tensors(_coloured(x[:96], 0), y[:96], _coloured(xt[:32], 1), yt[:32], n_labeled=20,
                                                 bs=16, device='cpu')
    set_seed(0)
    learn = sgan_learner(dls, arch=resnet18)
    assert learn.model.generator.sample(2).shape==(2,3,32,32)
    assert learn.sgan_trainer.n_gen==2 # conv discriminators: two generator steps a batch
    body0 = learn.model.disc.body[0][0].weight.detach().clone()
    learn.fit(1)
    assert learn.sgan_trainer.disc_has_bn # batch norm: feature matching on real and generated images together
    assert not torch.equal(body0, learn.model.disc.body[0][0].weight) # not frozen without pretrained weights
    assert learn.get_preds()[0].shape==(32,10)
    sup = supervised_learner(dls, arch=resnet18)
    sup.fit(1)
    assert sup.get_preds()[0].shape==(32,10)
