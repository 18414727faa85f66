"""One epoch of an SGAN under fastai's `distrib_ctx`, run by tests/test_gpu_ready.py with `torchrun --nproc_per_node 2`.

Process 1's loaders claim another device (as if they had been built on another GPU); wrapping them for the process
must put them, with their data and batch transforms, on the process's own device. The training batches are counted
for host syncs (tests/host_syncs.py). Writes `<out>/rank<r>.json`.
"""
import json, sys
from pathlib import Path
import torch, torch.distributed as dist
from fastai.vision.all import Normalize, set_seed
from fastai_sgan.all import *
from fastai_sgan.distributed import *
from host_syncs import SyncCounter

out = Path(sys.argv[1])
torch.set_num_threads(1)
set_seed(0)
dls = SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu', batch_tfms=[Normalize.from_stats(0.5, 0.5, cuda=False)])
learn = sgan_learner(dls, terms=[ConsistencyTerm(1.)])
rank = rank_distrib()
moved = []
if rank==1:
    for dl in dls.loaders:
        dl._device = torch.device("meta") # claims to have been built "elsewhere" (fastai's `device` setter would move it)
        dl.to = (lambda f: lambda d: moved.append(str(d)) or f(d))(dl.to)
counter = SyncCounter()
with learn.distrib_ctx():
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=counter.cbs())
norm = first(t for t in dls.train.after_batch.fs if isinstance(t, Normalize))
res = dict(per_batch=counter.per_batch, batches=counter.batches, where=dict(counter.where), world_size=num_distrib(),
           moved=moved, devices=[str(dl.device) for dl in dls.loaders], data=str(dls.train.dataset.x.device),
           norm=str(norm.mean.device), accuracy=float(learn.recorder.values[-1][2]))
(out/f'rank{rank}.json').write_text(json.dumps(res))
dist.barrier()
dist.destroy_process_group()
