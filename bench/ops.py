"""ATen operations a training batch of `sgan_learner` (on a GPU, each is a kernel launch), counted on the CPU.

A `TorchDispatchMode` counts every operation that reaches ATen between a training batch's first `before_batch` and
its last `after_batch`: the forward passes, the backward passes, the optimizers' steps, the EMA and the callbacks.
The count does not depend on the device, so it shows on a CPU what a GPU launches.

    .venv/bin/python bench/ops.py mnist      # the MLP preset on 28×28 grey images (2 generator steps)
    .venv/bin/python bench/ops.py digits     # the smaller MLP on 8×8 digits (1 generator step)
    .venv/bin/python bench/ops.py colour     # the conv preset on 32×32 colour images (2 generator steps)
"""
import argparse, json, sys
from collections import Counter
from pathlib import Path
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from fastai.vision.all import Callback, CancelEpochException, set_seed
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner
sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
from host_syncs import _Start, _End # the callbacks that turn a counter on for each training batch

class OpCounter(TorchDispatchMode):
    "Count the ATen operations run while `active` (see `cbs`), by name"
    def __init__(self):
        super().__init__()
        self.active,self.ops,self.batches = False,Counter(),0
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if self.active: self.ops[str(func.overloadpacket).removeprefix('aten.')] += 1
        return func(*args, **(kwargs or {}))
    def cbs(self): return [_Start(self), _End(self)] # as `host_syncs.SyncCounter`'s
    @property
    def per_batch(self)->float: return sum(self.ops.values())/max(self.batches, 1)

def _tensors(shape, n=256, c=10, bs=32):
    "Random images of `shape`: the count does not depend on their values"
    g = torch.Generator().manual_seed(0)
    x,y = torch.rand(n, *shape, generator=g),torch.arange(n)%c
    return SemiSupervisedDataLoaders.from_tensors(x, y, x[:64], y[:64], n_labeled=100, bs=bs, bs_labeled=100, device='cpu')

TASKS = dict(mnist=lambda: _tensors((1,28,28)), colour=lambda: _tensors((3,32,32), bs=64),
             digits=lambda: SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu'))

def count_ops(learn, batches:int=4)->OpCounter:
    "The ATen operations of `learn`'s first `batches` training batches"
    c = OpCounter()
    class _Stop(Callback):
        order = 1001
        def after_batch(self):
            if self.training and self.iter+1>=batches: raise CancelEpochException()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=c.cbs()+[_Stop()])
    return c

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('task', choices=list(TASKS))
    p.add_argument('--batches', type=int, default=4)
    p.add_argument('--top', type=int, default=12, help='operations to list')
    p.add_argument('--json', help='write the counts there')
    a = p.parse_args()
    set_seed(0)
    c = count_ops(sgan_learner(TASKS[a.task]()), a.batches)
    print(f"{a.task}: {c.per_batch:.0f} ATen operations a training batch ({c.batches} batches; torch {torch.__version__})")
    for k,v in c.ops.most_common(a.top): print(f"  {k:32s} {v/c.batches:6.1f}")
    if a.json: open(a.json, 'w').write(json.dumps(dict(task=a.task, per_batch=c.per_batch, ops={k:v/c.batches for k,v in c.ops.items()}), indent=1))
