"""SGAN on digits under fastai's `distrib_ctx`, run by tests/test_distributed.py with `torchrun --nproc_per_node 2`.

Each process starts from different random weights (seed 100+rank); the data order comes from process 0. Writes
`<out>/rank<r>.json`: the weights' fingerprint, their max difference from process 0's, the accuracy on the whole
held-out set.
"""
import json, sys
from pathlib import Path
from itertools import chain
import torch, torch.distributed as dist
from fastai_sgan.all import *
from fastai_sgan.distributed import *

out,epochs = Path(sys.argv[1]),int(sys.argv[2])
torch.set_num_threads(1)
dls = SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu')
rank = rank_distrib()
set_seed(100+rank)
learn = sgan_learner(dls)
with learn.distrib_ctx():
    with learn.no_logging(): learn.fit_one_cycle(epochs)
res = {}
for part in ('disc', 'generator', 'ema'):
    m = getattr(learn.model, part)
    flat = torch.cat([t.detach().float().flatten() for t in chain(m.parameters(), m.buffers())])
    ts = [torch.zeros_like(flat) for _ in range(num_distrib())]
    dist.all_gather(ts, flat)
    res[part] = float((ts[rank]-ts[0]).abs().max())
with learn.no_bar(): res['accuracy'] = float(learn.validate()[1])
res['world_size'],res['n_iter'] = num_distrib(),int(learn.model.ema_steps)
(out/f'rank{rank}.json').write_text(json.dumps(res))
dist.barrier()
dist.destroy_process_group()
