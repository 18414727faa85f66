"Reliability: bad input to the learners, divergence, save/load/resume, export, mixed precision, determinism"
import pytest, torch, torch.nn.functional as F
from fastai.vision.all import set_seed, load_learner, DataLoaders, CancelFitException, Callback, resnet18
from fastai_sgan.all import SemiSupervisedDataLoaders, RandomShift
from fastai_sgan.models import mlp_generator, mlp_discriminator, conv_discriminator, conv_generator, body_discriminator
from fastai_sgan.callback import SGANTrainer, SGANDivergence
from fastai_sgan.learner import sgan_learner, supervised_learner


def _rgb32(mnist, n=200):
    x,y,xt,yt = mnist
    rgb = lambda t: F.pad(t[:, None], (2,2,2,2)).expand(-1,3,-1,-1).contiguous()
    return SemiSupervisedDataLoaders.from_tensors(rgb(x[:n]), y[:n], rgb(xt[:50]), yt[:50], n_labeled=20, bs=20, device='cpu')

def _state(learn): return {k: v.clone() for k,v in learn.model.state_dict().items()}

# --- bad input: each one error, before training
def test_bad_learner_input(digits, mnist):
    with pytest.raises(ValueError, match='must be SemiSupervisedDataLoaders'): sgan_learner(DataLoaders(digits.train, digits.valid))
    with pytest.raises(ValueError, match='SGANDiscriminator'): sgan_learner(digits, discriminator=torch.nn.Linear(64, 10))
    rgb = _rgb32(mnist)
    with pytest.raises(ValueError, match='cannot take images of shape \\(3, 32, 32\\)'):
        sgan_learner(rgb, discriminator=conv_discriminator(1, 10), generator=conv_generator((3,32,32)))
    with pytest.raises(ValueError, match='cannot take images'): supervised_learner(rgb, discriminator=body_discriminator(resnet18, n_in=1))
    with pytest.raises(ValueError, match='makes images of shape \\(1, 28, 28\\), the data are \\(3, 32, 32\\)'):
        sgan_learner(rgb, generator=conv_generator((1,28,28)))
    with pytest.raises(ValueError, match='No default models for 3×6×6 images: the conv models take 8×8 or more'):
        x = torch.rand(60,3,6,6); y = torch.arange(60)%2
        sgan_learner(SemiSupervisedDataLoaders.from_tensors(x, y, x[:10], y[:10], n_labeled=4, bs=8, device='cpu'))

# --- divergence
class _NaNGen(SGANTrainer):
    "A generator loss that turns NaN at epoch 1, batch 3"
    def _gen_loss(self, real, n):
        loss = super()._gen_loss(real, n)
        return loss*float('nan') if (self.epoch,self.iter)==(1,3) else loss

def test_generator_divergence_named(digits):
    set_seed(0)
    learn = sgan_learner(digits)
    learn.remove_cb(SGANTrainer).add_cb(_NaNGen())
    with pytest.raises(SGANDivergence, match='at epoch 1: the generator loss was not finite, first in batch 3 of 40'):
        learn.fit(3)
    assert len(learn.recorder.values)==1 # stopped at the end of that epoch, not later

def test_nan_input_named(digits):
    x,y,xv,yv = [t.clone() for t in (digits.train_ds.x[:,0], digits.train_ds.y, digits.valid_ds.x[:,0], digits.valid_ds.y)]
    x[:] = float('nan')
    dls = SemiSupervisedDataLoaders.from_tensors(x, y, xv, yv, n_labeled=50, bs=32, device='cpu')
    with pytest.raises(SGANDivergence, match='epoch 0: the discriminator loss was not finite, first in batch 0 .*training images hold NaN/inf'):
        sgan_learner(dls).fit(1)

# --- checkpoint, resume, determinism
def _fresh(seed, path):
    "Data and learner from `seed` (the loaders keep their own random generator, so they are made anew too)"
    set_seed(seed)
    return sgan_learner(SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu'), path=path)

def test_save_load_resume_exact(tmp_path):
    full = _fresh(3, tmp_path)
    with full.no_bar(): full.fit_one_cycle(3)
    part = _fresh(3, tmp_path)
    with part.no_bar(): part.fit_one_cycle(3, cbs=_Stop(1))
    part.save('after1')
    res = _fresh(123, tmp_path).load('after1')
    assert res.gen_opt.state_dict()['state'] # the generator's Adam moments came back
    with res.no_bar(): res.fit_one_cycle(3, start_epoch=2)
    a,b = _state(full),_state(res)
    assert max(float((a[k].float()-b[k].float()).abs().max()) for k in a)<=1e-6
    # every metric of the last epoch agrees; train_loss is fastai's smoothed loss, which restarts on resume
    nums = lambda l: [v for v in l.recorder.values[-1][1:] if not isinstance(v, str)]
    assert nums(full)==pytest.approx(nums(res), abs=1e-6)

class _Stop(Callback):
    def __init__(self, n): self.n = n
    def after_epoch(self):
        if self.epoch==self.n: raise CancelFitException()

def test_load_fastai_style_and_model_only(digits, tmp_path):
    learn = sgan_learner(digits, path=tmp_path)
    learn.fit(1)
    learn.save('m', with_opt=False)
    assert 'opt' not in torch.load(tmp_path/'models/m.pth', weights_only=True)
    with pytest.warns(UserWarning, match="doesn't contain an optimizer state"): sgan_learner(digits, path=tmp_path).load('m')

def test_same_seed_same_metrics(digits):
    vals = []
    for _ in range(2):
        set_seed(5)
        learn = sgan_learner(SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu'))
        with learn.no_bar(): learn.fit_one_cycle(2)
        vals.append(learn.recorder.values)
    assert vals[0]==vals[1]

# --- export
def test_export_get_preds_identical(digits, tmp_path):
    set_seed(0)
    learn = sgan_learner(digits, path=tmp_path)
    learn.fit(1)
    learn.export('e.pkl')
    assert getattr(learn, 'gen_opt', None) is not None # still there for more training
    learn2 = load_learner(tmp_path/'e.pkl')
    assert getattr(learn2, 'gen_opt', None) is None
    p1,_ = learn.get_preds(dl=digits.valid)
    dl = learn2.dls.test_dl(digits.valid_ds.x)
    p2,_ = learn2.get_preds(dl=dl)
    assert torch.equal(p1, p2)

# --- mixed precision on the CPU
class _LogitDtypes(Callback):
    "dtypes of the discriminator's logits in the training batches"
    order,run_valid = 5,False # before `MixedPrecision.after_pred` (10) casts them to float
    def before_fit(self): self.seen = set()
    def after_pred(self): self.seen.add(self.pred.dtype)

@pytest.mark.parametrize('mode', ['bf16', 'fp16'])
def test_mixed_precision_cpu(digits, mode):
    set_seed(0)
    learn = sgan_learner(digits)
    learn = learn.to_bf16() if mode=='bf16' else learn.to_fp16()
    g0 = torch.cat([p.detach().flatten().clone() for p in learn.model.generator.parameters()])
    rec = _LogitDtypes()
    with learn.no_bar(): learn.fit_one_cycle(2, cbs=rec)
    dtype = torch.bfloat16 if mode=='bf16' else torch.float16
    assert rec.seen=={dtype} # the discriminator step ran in reduced precision
    assert learn.sgan_trainer.gen_autocast.fast_dtype==dtype and learn.sgan_trainer.gen_autocast._enabled
    assert not torch.equal(g0, torch.cat([p.detach().flatten() for p in learn.model.generator.parameters()]))
    assert learn.validate()[1]>0.3
    sup = supervised_learner(digits).to_bf16()
    with sup.no_bar(): sup.fit(1)
    assert sup.validate()[1]>0.2
