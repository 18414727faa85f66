"Training core: sgan_learner end to end, schedules, lr_find, save/load, bad models, the 32x32 RGB path"
import pytest, torch, torch.nn.functional as F
from fastai.vision.all import set_seed, ClassificationInterpretation, load_learner, resnet18
from fastai_sgan.all import SemiSupervisedDataLoaders
from fastai_sgan.models import mlp_generator, mlp_discriminator, conv_generator, body_discriminator, SGANDiscriminator
from fastai_sgan.learner import sgan_learner, supervised_learner
from fastai_sgan.losses import SGANLoss, ConsistencyTerm, ManifoldTerm


def _params(m): return torch.cat([p.detach().flatten().clone() for p in m.parameters()])

def test_fit_beats_chance_and_baseline_runs(digits):
    set_seed(0)
    learn = sgan_learner(digits)
    learn.fit_one_cycle(4)
    assert learn.validate()[1]>0.5
    assert learn.recorder.metric_names[3:8]==['accuracy','loss_lab','loss_unl','loss_gen','acc_lab']
    assert all(v is not None for v in learn.recorder.values[-1])
    set_seed(0)
    sup = supervised_learner(digits)
    sup.fit_one_cycle(2)
    assert sup.validate()[1]>0.3

@pytest.mark.parametrize('fit', ['fit', 'fit_flat_cos'])
def test_other_schedules_drive_generator(digits, fit):
    learn = sgan_learner(digits, gen_lr_mult=0.5)
    g0 = _params(learn.model.generator)
    getattr(learn, fit)(1, 1e-3)
    assert not torch.equal(g0, _params(learn.model.generator))
    assert learn.gen_opt.hypers[-1]['lr']==pytest.approx(0.5*learn.opt.hypers[-1]['lr'])

def test_lr_find_leaves_generator_idle(digits, tmp_path):
    learn = sgan_learner(digits)
    g0 = _params(learn.model.generator)
    learn.path = tmp_path
    res = learn.lr_find(num_it=20, show_plot=False)
    assert res.valley>0
    assert torch.equal(g0, _params(learn.model.generator))

def test_save_load_keeps_generator_and_ema(digits, tmp_path):
    set_seed(0)
    learn = sgan_learner(digits, path=tmp_path)
    learn.fit(1)
    learn.save('m')
    other = sgan_learner(digits, path=tmp_path).load('m')
    for a,b in ((learn.model.generator, other.model.generator), (learn.model.ema, other.model.ema), (learn.model.disc, other.model.disc)):
        assert torch.equal(_params(a), _params(b))

def test_interpretation_and_results(digits):
    learn = sgan_learner(digits)
    learn.fit(1)
    interp = ClassificationInterpretation.from_learner(learn)
    assert interp.confusion_matrix().sum()==500
    learn.show_results(max_n=4)
    preds,targs = learn.get_preds()
    assert preds.shape==(500,10) and torch.allclose(preds.sum(1), torch.ones(500))

def test_explicit_fake_class(digits):
    set_seed(0)
    learn = sgan_learner(digits, fake='explicit')
    assert learn.model.disc.head.out_features==11
    learn.fit_one_cycle(2)
    assert learn.get_preds()[0].shape==(500,10)

def test_export_predict(digits, tmp_path):
    learn = sgan_learner(digits, path=tmp_path)
    learn.fit(1)
    learn.export('e.pkl')
    learn2 = load_learner(tmp_path/'e.pkl')
    x = digits.valid_ds.x[:5]
    assert [learn2.predict(o)[1].item() for o in x]==[learn.predict(o)[1].item() for o in x]

def test_bad_models(digits):
    with pytest.raises(ValueError, match='makes images of shape'): sgan_learner(digits, generator=mlp_generator((1,28,28)))
    with pytest.raises(ValueError, match='has 5 classes'):
        sgan_learner(digits, discriminator=mlp_discriminator(64, 5))
    with pytest.raises(ValueError, match='has 5 classes'):
        supervised_learner(digits, discriminator=mlp_discriminator(64, 5))
    with pytest.raises(ValueError, match="use 'implicit'"): sgan_learner(digits, fake='both')
    with pytest.raises(ValueError, match="gen_loss"): sgan_learner(digits, gen_loss='wgan')
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="n_gen"): sgan_learner(digits, n_gen=bad)
    with pytest.raises(ValueError, match='cannot take images'):
        sgan_learner(digits, discriminator=mlp_discriminator(784, 10))

def test_rgb32_conv_path(mnist):
    "32x32 RGB code path (SVHN/CIFAR-sized) on MNIST padded to 32x32 and repeated on 3 channels"
    x,y,xt,yt = mnist
    rgb = lambda t: F.pad(t[:, None], (2,2,2,2)).expand(-1,3,-1,-1).contiguous()
    dls = SemiSupervisedDataLoaders.from_tensors(rgb(x[:400]), y[:400], rgb(xt[:100]), yt[:100], n_labeled=20, bs=20, device='cpu')
    learn = sgan_learner(dls)
    assert learn.model.generator.sample(2).shape==(2,3,32,32)
    learn.fit(1)
    assert learn.get_preds()[0].shape==(100,10)

def test_body_discriminator(mnist):
    x,y,xt,yt = mnist
    dls = SemiSupervisedDataLoaders.from_tensors(x[:200], y[:200], xt[:50], yt[:50], n_labeled=20, bs=20, device='cpu')
    learn = sgan_learner(dls, discriminator=body_discriminator(resnet18, n_in=1))
    learn.fit(1)
    assert learn.get_preds()[0].shape==(50,10)

def test_folder_export_predict_files(mnist_folder, tmp_path):
    "A classifier trained on a folder of PNGs (read into memory) predicts image files and PIL images after `load_learner`"
    from PIL import Image
    from fastai.vision.all import get_image_files, PILImageBW
    dls = SemiSupervisedDataLoaders.from_folder(mnist_folder, train='training', valid='testing', n_labeled=50, bs=16, device='cpu')
    set_seed(0)
    learn = sgan_learner(dls, path=tmp_path)
    learn.fit_one_cycle(2)
    learn.export('f.pkl')
    clf = load_learner(tmp_path/'f.pkl')
    files = get_image_files(mnist_folder/'testing')[:6]
    preds = [clf.predict(f) for f in files]
    assert [p[1].item() for p in preds]==[learn.predict(f)[1].item() for f in files]
    assert [p[1].item() for p in preds]==[clf.predict(PILImageBW.create(f))[1].item() for f in files]
    assert [p[1].item() for p in preds]==[clf.predict(Image.open(f).convert('RGB'))[1].item() for f in files] # read as grey
    x = torch.stack([torch.tensor(list(Image.open(f).getdata()), dtype=torch.uint8).view(1,28,28) for f in files])
    assert [p[1].item() for p in preds]==[clf.predict(o)[1].item() for o in x]
    assert all(p[0] in dls.vocab for p in preds) # class names, as with files read by fastai
    with pytest.raises(ValueError, match='resize them'): clf.predict(Image.open(files[0]).resize((30,30)))

# --- 0.1.0's arguments: the same training as the new ones, with a warning
def test_old_arguments_train_the_same():
    "`cons_*`, `man_*`, `ema_decay` and `smooth` make the terms, EMA and loss the new arguments make: the same numbers"
    def fit(**kw):
        set_seed(0)
        learn = sgan_learner(SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu'), **kw)
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(2)
        return learn.recorder.values
    with pytest.warns(FutureWarning, match=r"terms=\[ConsistencyTerm\(weight=1.0, kind='ce', thresh=0.5\)\]"):
        old = fit(cons_weight=1., cons='ce', cons_thresh=0.5, man_weight=0.01, man_warmup=0.5, ema_decay=0.99, smooth=0.1)
    new = fit(ema=0.99, loss_func=SGANLoss(10, smooth=0.1, fm_p=2, terms=[ConsistencyTerm(1., 'ce', 0.5), ManifoldTerm(0.01, warmup=0.5)]))
    assert old==new
    with pytest.raises(ValueError, match='pass the terms to it'): sgan_learner(SemiSupervisedDataLoaders.from_digits(device='cpu'), loss_func=SGANLoss(), terms=[ManifoldTerm()])
