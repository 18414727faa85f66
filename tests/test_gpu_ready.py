"""GPU-ready training, proved on a CPU: no host sync in a training batch, each process's data on its own device,
`pin_memory`, and mixed precision (export to the CPU, the gradient scalers, fp16 overflow)"""
import json, os, socket, subprocess, sys, warnings
from pathlib import Path
import pytest, torch, torch.nn as nn
from fastai.vision.all import (Learner, Callback, CrossEntropyLossFlat, Flatten, MixedPrecision, set_seed, load_learner,
                               CancelFitException)
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, UNLABELED, SGANDivergence, SGANTrainer
from host_syncs import SyncCounter, cases, count

HERE = str(Path(__file__).resolve())

# --- the counter
class _Syncs(Callback):
    "Three host syncs a training batch: a read, a truth test, a boolean mask"
    def after_loss(self):
        if self.training:
            self.loss.item()
            if self.loss>0: pass
            self.yb[0][self.yb[0]>=0]

def _plain(dls, cbs=None):
    return Learner(dls, nn.Sequential(Flatten(), nn.Linear(64, 10)), loss_func=CrossEntropyLossFlat(ignore_index=UNLABELED), cbs=cbs)

def test_counter_calibrated(digits):
    "A plain fastai `Learner` makes none from the package's files; a callback with three syncs a batch is counted at 3"
    c = count(_plain(digits))
    assert c.batches==len(digits.train) and c.n==0, c.where
    c = count(_plain(digits, cbs=_Syncs()), roots=(HERE,))
    assert c.per_batch==3, c.where
    assert {k.split(' at ')[0] for k in c.where}=={'item', '__bool__', '__getitem__'}

# --- every learner and option: 0 a batch
@pytest.mark.parametrize('name', list(cases()))
def test_no_host_sync_in_training_batch(name):
    set_seed(0)
    c = count(cases()[name]())
    assert c.batches>0
    assert c.n==0, f"{name}: {c.per_batch:.2f} host syncs a batch: {dict(c.where)}"

# --- two processes: no sync, each process's loaders on its own device
def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def test_two_processes_no_sync_own_device(tmp_path):
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
           '--master_port', str(_free_port()), str(Path(__file__).parent/'ddp_gpu_ready.py'), str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode==0, r.stdout[-2000:]+r.stderr[-4000:]
    res = [json.loads((tmp_path/f'rank{i}.json').read_text()) for i in range(2)]
    for o in res:
        assert o['world_size']==2 and o['batches']>0
        assert o['per_batch']==0, o['where']
        assert o['devices']==['cpu', 'cpu'] and o['data']=='cpu' and o['norm']=='cpu', o
    assert res[0]['moved']==[] and res[1]['moved']==['cpu', 'cpu'], res # only process 1's loaders had to move
    assert res[0]['accuracy']==res[1]['accuracy']

# --- pin_memory
def test_pin_memory_in_memory(digits):
    with pytest.warns(UserWarning, match='pin_memory=True is ignored'):
        dls = SemiSupervisedDataLoaders.from_digits(n_labeled=50, device='cpu', pin_memory=True)
    assert not dls.train.pin_memory and not dls.valid.pin_memory
    learn = sgan_learner(dls)
    with learn.no_bar(), learn.no_logging(): learn.fit(1)

# --- mixed precision
def _mp(learn): return [cb for cb in learn.cbs if isinstance(cb, MixedPrecision)]

class _Autocast(Callback):
    "Whether the model's forward ran under autocast"
    def before_fit(self): self.seen = set()
    def after_pred(self): self.seen.add((torch.is_autocast_enabled('cpu'), self.pred.dtype))

def test_bf16_export_loads_fp32(digits, tmp_path):
    set_seed(0)
    learn = sgan_learner(digits, path=tmp_path).to_bf16()
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    assert learn.mixed_precision is _mp(learn)[0] # fastai's name, so fastai's `to_fp32`/`load_learner` find it
    learn.export('bf16.pkl')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        cpu = load_learner(tmp_path/'bf16.pkl', cpu=True)
    assert _mp(cpu)==[]
    rec = _Autocast()
    preds,_ = cpu.get_preds(dl=cpu.dls.test_dl(digits.valid_ds.x[:8]), cbs=rec)
    assert rec.seen=={(False, torch.float32)} and preds.dtype==torch.float32
    assert _mp(learn) # the learner itself keeps training in bf16

class _Scales(Callback):
    "The two scalers' scales at the start of training"
    order = SGANTrainer.order+1
    def before_train(self): self.scales = (self.learn.scaler.get_scale(), self.learn.gen_scaler.get_scale())

def _fresh(path, seed=0):
    set_seed(seed)
    return sgan_learner(SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu'), path=path)

def test_fp16_scalers_kwargs_and_checkpoint(tmp_path):
    learn = _fresh(tmp_path).to_fp16(init_scale=2.**8, growth_interval=3)
    rec = _Scales()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=rec)
    assert rec.scales==(2.**8, 2.**8) # `to_fp16`'s arguments reach both networks' scalers
    st = learn.mixed_precision.scaler_state()
    scales = (st['disc']['scale'], st['gen']['scale'])
    assert scales!=(2.**8, 2.**8) # they grew (every 3 steps) or backed off
    learn.save('fp16')
    res = _fresh(tmp_path, seed=1).to_fp16().load('fp16') # other default scalers: the file's states replace them
    rec = _Scales()
    with res.no_bar(), res.no_logging(): res.fit(1, cbs=rec)
    assert rec.scales==scales
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=rec) # the next fit goes on from the last one too
    assert rec.scales==scales

class _Inf(Callback):
    "Put an infinite pixel in training batch `i` of epoch 0"
    order = SGANTrainer.order-1
    def __init__(self, i): self.i = i
    def before_batch(self):
        if self.training and (self.epoch,self.iter)==(0,self.i):
            x = self.xb[0].clone()
            x[0].view(-1)[0] = float('inf')
            self.learn.xb = (x,)

def test_fp16_overflow_skips_step(tmp_path):
    learn = _fresh(tmp_path).to_fp16()
    with learn.no_bar(), learn.no_logging(): learn.fit(2, cbs=_Inf(3)) # no SGANDivergence: the scalers skip that step
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())
    assert learn.mixed_precision.scaler_state()['disc']['scale']<2.**16 # the scale backed off
    assert learn.validate()[1]>0.3

def test_fp32_inf_stops_at_epoch_end(tmp_path):
    learn = _fresh(tmp_path)
    with pytest.raises(SGANDivergence, match='at epoch 0: the discriminator loss was not finite, first in batch 3 of'):
        with learn.no_bar(), learn.no_logging(): learn.fit(2, cbs=_Inf(3))
    assert len(learn.recorder.values)==0 # stopped at the end of epoch 0's training, before validating it

class _InfAlways(_Inf):
    def before_batch(self):
        x = self.xb[0].clone()
        x[:, :, 0, 0] = float('inf')
        self.learn.xb = (x,)

def test_fp16_repeated_overflow_stops(tmp_path):
    learn = _fresh(tmp_path).to_fp16()
    with pytest.raises(SGANDivergence, match='fp16 overflowed in so many discriminator steps that its gradient scaler fell'):
        with learn.no_bar(), learn.no_logging(): learn.fit(2, cbs=_InfAlways(0))

class _CancelAtStart(Callback):
    order = -50 # before every other callback's `before_fit`
    def before_fit(self): raise CancelFitException()

@pytest.mark.parametrize('fp', ['fp32', 'fp16'])
def test_fit_cancelled_before_it_starts(digits, fp):
    "fastai still calls `after_fit` on every callback: ours must not need what their `before_fit` would have made"
    learn = sgan_learner(digits)
    if fp=='fp16': learn.to_fp16()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=_CancelAtStart())
    with learn.no_bar(), learn.no_logging(): learn.fit(1) # and the next fit trains
    assert learn.recorder.values

# --- the progress bar: fastai's reads the smoothed loss in every batch, `DeviceProgress` every `every` batches
def test_progress_bar_reads_the_loss_every_n_batches(digits):
    import fastai.callback.progress as fastai_progress
    from fastai.vision.all import ProgressCallback
    from fastai_sgan.all import DeviceProgress
    from host_syncs import PACKAGE
    roots = (PACKAGE, fastai_progress.__file__) # the bars' own reads
    def syncs(learn, **kw):
        c = SyncCounter(roots)
        with learn.no_logging(): learn.fit(1, cbs=c.cbs(), **kw)
        return c
    learn = sgan_learner(digits)
    assert type(learn.progress) is DeviceProgress
    c = syncs(learn)
    n = len(digits.train)
    assert c.batches==n and c.n==n//20 + (n%20>0), (n, c.n, dict(c.where))
    with learn.no_bar(): assert not hasattr(learn, 'progress')
    assert type(learn.progress) is DeviceProgress # the same bar back
    learn.progress.every = 1
    assert syncs(learn).n==n
    plain = sgan_learner(digits)
    plain.remove_cb(plain.progress); plain.add_cb(ProgressCallback()) # fastai's own: one read a batch
    assert syncs(plain).n==n
    with pytest.raises(ValueError, match='whole number'): DeviceProgress(0)
