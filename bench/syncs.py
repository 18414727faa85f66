"""Host syncs a training batch, for each learner and option (the cases of tests/host_syncs.py), one epoch each.

On a CPU the calls that would make the host wait for a GPU are counted by what they are, from the package's own files
(tests/host_syncs.py's `SyncCounter`). On a GPU CUDA itself reports them (`torch.cuda.set_sync_debug_mode('warn')`),
from any code, fastai's included. A plain fastai `Learner` on the same data is the calibration, and a learner with one
planted `.item()` a batch shows that the counter sees syncs.

    python bench/syncs.py                      # CPU, the package's calls
    python bench/syncs.py --device cuda        # CUDA's own count
"""
import argparse, json, sys, warnings
from pathlib import Path
import torch, torch.nn as nn
from fastai.vision.all import Learner, Callback, CrossEntropyLossFlat, Flatten, set_seed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
from host_syncs import SyncCounter, CudaSyncCounter, cases, extra_cases, count
from fastai_sgan.all import SemiSupervisedDataLoaders, UNLABELED

class _OneItem(Callback):
    "One planted host sync a training batch"
    def after_loss(self):
        if self.training: self.loss.item()

def plain(device, planted=False):
    "A plain fastai `Learner` (a linear model) on the digits"
    dls = SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device=device)
    return Learner(dls, nn.Sequential(Flatten(), nn.Linear(64, 10)), loss_func=CrossEntropyLossFlat(ignore_index=UNLABELED),
                   cbs=_OneItem() if planted else None)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--json', default=None, help='also write the counts to this file')
    p.add_argument('--only', default=None, help='only the cases whose name contains this text (the calibrations always run)')
    a = p.parse_args()
    cuda = torch.device(a.device).type=='cuda'
    new = CudaSyncCounter if cuda else None
    how = "CUDA's own count (set_sync_debug_mode), any code" if cuda else "calls from the package's files (tests/host_syncs.py)"
    print(f"host syncs a training batch, {how}; device {a.device}", flush=True)
    todo = {'plain fastai Learner (calibration)': lambda: plain(a.device),
            'plain Learner + one .item() a batch (calibration)': lambda: plain(a.device, planted=True),
            **{k:v for k,v in {**cases(a.device), **extra_cases(a.device)}.items() if a.only is None or a.only in k}}
    res = {}
    for name,f in todo.items():
        set_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            learn = f()
        # the planted sync is in this file: on a CPU, count this file's calls too
        roots = (str(Path(__file__).resolve()),) if 'one .item()' in name else None
        c = count(learn, counter=new() if cuda else SyncCounter(roots) if roots else None)
        res[name] = dict(per_batch=round(c.per_batch, 3), batches=c.batches, where=dict(c.where))
        print(f"  {name:50s} {c.per_batch:6.2f} a batch ({c.batches} batches)" + (f"  {dict(c.where)}" if c.n else ''), flush=True)
    if a.json: Path(a.json).write_text(json.dumps(dict(device=a.device, how=how, counts=res), indent=1))

if __name__=='__main__': main()
