"""Count the calls that would make the host wait for a GPU, during the training batches of a fastai `Learner`.

On a CPU nothing waits, so the calls are counted by what they are, whatever the device: reading a tensor's value
(`item`, `tolist`, `numpy`, `bool`/`int`/`float`/`format` of a tensor), and everything whose output shape depends on
the values (`nonzero`, `masked_select`, `unique`, indexing by a boolean mask). Only calls made from the files under
`roots` count: by default the package's own, so a plain fastai `Learner` counts 0 however fastai works inside.

    counter = SyncCounter()
    learn.fit(1, cbs=counter.cbs())
    counter.per_batch, counter.where   # mean count a training batch; `file:line` of each call counted
"""
import os, sys, traceback, warnings
from collections import Counter
from pathlib import Path
import torch
from torch.overrides import TorchFunctionMode
from fastai.callback.core import Callback
from fastcore.basics import ifnone

import fastai_sgan
PACKAGE = str(Path(fastai_sgan.__file__).parent)

_READS = {'item', 'tolist', 'numpy', '__bool__', '__int__', '__float__', '__index__', '__format__'}
_SHAPED = {'nonzero', 'argwhere', 'masked_select', 'unique', 'unique_consecutive'}

def _bool_index(args):
    "Whether `t[idx]` indexes by a boolean tensor"
    idx = args[1] if len(args)>1 else None
    return any(isinstance(o, torch.Tensor) and o.dtype==torch.bool for o in (idx if isinstance(idx, tuple) else (idx,)))

class SyncCounter(TorchFunctionMode):
    "Count host syncs made from the files under `roots` while `active` (see `cbs`)"
    def __init__(self, roots=(PACKAGE,)):
        super().__init__()
        self.roots = tuple(str(Path(r).resolve()) for r in roots)
        self.active,self.n,self.batches,self.where = False,0,0,Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        # not while `torch.compile` traces (the captured step): a graph traced whole (`fullgraph=True`) holds no host
        # sync, since each would break it; the host's own calls around the graph are counted
        if self.active and not torch.compiler.is_compiling():
            name = getattr(func, '__name__', '')
            if name in _READS or name in _SHAPED or (name=='__getitem__' and _bool_index(args)): self._count(name)
        return func(*args, **(kwargs or {}))

    def _count(self, name):
        frames = [f for f in traceback.extract_stack()[:-2] if os.path.realpath(f.filename).startswith(self.roots)]
        if frames:
            f = frames[-1]
            self.n += 1
            self.where[f'{name} at {Path(f.filename).name}:{f.lineno}'] += 1

    @property
    def per_batch(self)->float: return self.n/max(self.batches, 1)

    def cbs(self):
        "Two callbacks: counting starts in the first `before_batch` of a training batch and ends after its last `after_batch`"
        return [_Start(self), _End(self)]

class _Start(Callback):
    order,run_valid = -1000,False
    def __init__(self, c): self.c = c
    def before_fit(self): self.c.__enter__()
    def before_batch(self): self.c.active = True
    def after_fit(self): self.c.__exit__(None, None, None)

class _End(Callback):
    order,run_valid = 1000,False
    def __init__(self, c): self.c = c
    def after_batch(self):
        self.c.active = False
        self.c.batches += 1
    def after_cancel_batch(self): self.c.active = False

# --- the learners and options whose training batches must not sync
def _tensors_dls(shape, n=96, k=4, bs=16, device='cpu'):
    "Random images of `shape` with `k` classes: enough to count syncs, quick to train"
    from fastai_sgan.all import SemiSupervisedDataLoaders
    g = torch.Generator().manual_seed(0)
    x,y = torch.rand(n, *shape, generator=g),torch.arange(n)%k
    return SemiSupervisedDataLoaders.from_tensors(x, y, x[:32], y[:32], n_labeled=2*k, bs=bs, device=device)

def cases(device='cpu'):
    "name -> function making a `Learner` on `device`, for each learner and option"
    from fastai.vision.all import resnet18
    from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, supervised_learner, ConsistencyTerm, ManifoldTerm
    _digits = lambda: SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device=device)
    mnist_like,colour = lambda: _tensors_dls((1,28,28), device=device),lambda: _tensors_dls((3,32,32), device=device)
    return {
        'MLP, digits': lambda: sgan_learner(_digits()),
        'MLP 28×28 preset (2 generator steps)': lambda: sgan_learner(mnist_like()),
        'conv preset 3×32×32 (2 generator steps)': lambda: sgan_learner(colour()),
        'consistency kl': lambda: sgan_learner(_digits(), terms=[ConsistencyTerm(1.)]),
        'consistency mse': lambda: sgan_learner(_digits(), terms=[ConsistencyTerm(1., 'mse')]),
        'pseudo-labels (ce)': lambda: sgan_learner(_digits(), terms=[ConsistencyTerm(1., 'ce', thresh=0.)]),
        'manifold': lambda: sgan_learner(_digits(), terms=[ManifoldTerm(1.)]),
        'terms warming up': lambda: sgan_learner(_digits(), terms=[ConsistencyTerm(1., warmup=1.), ManifoldTerm(1., warmup=1.)]),
        'no EMA': lambda: sgan_learner(_digits(), ema=False),
        'supervised baseline': lambda: supervised_learner(_digits()),
        'captured step': lambda: _captured(sgan_learner(_digits()).capture(backend='aot_eager')),
        'to_bf16()': lambda: sgan_learner(_digits()).to_bf16(),
        'conv, to_bf16()': lambda: sgan_learner(colour()).to_bf16(),
        'resnet18 body (batch norm)': lambda: sgan_learner(colour(), arch=resnet18),
        'pretrained body (input normalization)': lambda: sgan_learner(colour(), arch=_tiny_arch, pretrained=True),
    }

def _captured(learn):
    "`learn`, whose captured step must run: a fall-back to eager (a warning) is an error"
    from fastai.callback.core import Callback
    from torch.overrides import _pop_mode_temporarily
    class _MustCapture(Callback):
        order = 1001
        def before_fit(self): warnings.filterwarnings('error', 'CapturedStep')
        def before_train(self): # the compiled step runs without the counter's mode: under a `TorchFunctionMode`, Dynamo
            cs = self.learn.captured_step # does not trace `backward` (so a fit under one runs eagerly)
            if cs.fn is not None and not hasattr(cs.fn, 'unmoded'):
                fn = cs.fn
                def unmoded(*args):
                    with _pop_mode_temporarily(): return fn(*args)
                cs.fn = unmoded; unmoded.unmoded = True
        def after_batch(self):
            if self.training: assert self.learn.captured_step.compiled, 'the captured step did not run'
        def after_fit(self): warnings.filterwarnings('default', 'CapturedStep')
    return learn.add_cb(_MustCapture())

def _tiny_arch(weights=None, progress=True):
    "A torchvision-style architecture whose 'pretrained' weights need no download"
    import torch.nn as nn
    m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    if weights is not None:
        for p in m.parameters(): nn.init.constant_(p, 0.01)
    return m

def _register_tiny_arch():
    from fastai.vision.all import model_meta, imagenet_stats
    model_meta[_tiny_arch] = dict(cut=-3, stats=imagenet_stats, weights='DEFAULT')
_register_tiny_arch()

def extra_cases(device='cpu'):
    "Learners reported but not held to 0: fp16 steps through `GradScaler`, which reads its overflow flag on the host"
    from fastai_sgan.all import sgan_learner
    return {'to_fp16()': lambda: sgan_learner(_tensors_dls((3,32,32), device=device)).to_fp16()}

def count(learn, epochs=1, roots=(PACKAGE,), counter=None):
    "Train `learn` for `epochs` (no progress bar) and count its host syncs (with `counter`, default a `SyncCounter(roots)`)"
    c = ifnone(counter, SyncCounter(roots))
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, cbs=c.cbs())
    return c

class CudaSyncCounter:
    "Count the synchronizing operations CUDA itself reports (`torch.cuda.set_sync_debug_mode('warn')`) in training batches, from any code"
    def __init__(self): self.n,self.batches,self.where = 0,0,Counter()
    @property
    def per_batch(self)->float: return self.n/max(self.batches, 1)
    def cbs(self): return [_CudaStart(self), _CudaEnd(self)]

class _CudaStart(Callback):
    order,run_valid = -1000,False
    def __init__(self, c): self.c = c
    def before_batch(self):
        self.c.cm = warnings.catch_warnings(record=True)
        self.c.log = self.c.cm.__enter__()
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')

class _CudaEnd(Callback):
    order,run_valid = 1000,False
    def __init__(self, c): self.c = c
    def after_batch(self):
        torch.cuda.set_sync_debug_mode(0)
        self.c.cm.__exit__(None, None, None)
        ws = [w for w in self.c.log if 'synchroniz' in str(w.message)]
        self.c.n += len(ws)
        self.c.where.update(f'{Path(w.filename).name}:{w.lineno}' for w in ws)
        self.c.batches += 1
