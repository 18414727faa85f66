"""What each fork of a fastai internal buys: a batch's time with it and with fastai's own public way, alternately.

fastai_sgan keeps two small forks of fastai's internals for speed (two more, a quicker `OptimWrapper` and a
param-group copy of the hyper-parameters, measured no gain here and were replaced by fastai's own). Each run here trains `sgan_learner` on the digits
(`fit_one_cycle`, no progress bar) twice per repetition, with the fork and with fastai's own way in its place, and
prints the best time a batch of each and the difference:

- `call_one`: `SGANLearner._call_one`, which keeps, for the same callbacks, the list of those that have an event,
  against fastai's `Learner._call_one`, which sorts the callbacks and asks each one for each event;
- `smooth_loss`: `SmoothLossOnDevice` against fastai's `AvgSmoothLoss`. On a CPU both cost the same; on a GPU the
  fork saves one host sync a batch (`bench/syncs.py --device cuda` counts it), which this script cannot show.

    .venv/bin/python bench/forks.py                 # both, 5 repetitions of 10 epochs
    .venv/bin/python bench/forks.py --forks call_one --reps 9
"""
import argparse, platform, time, types
import torch
from fastai.vision.all import set_seed, Learner
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, SmoothLossOnDevice

def learner(dls, fork, on):
    "`sgan_learner(dls)`, with fastai's own way in place of `fork` where `on` is false"
    learn = sgan_learner(dls)
    if on: return learn
    if fork=='call_one': learn._call_one = types.MethodType(Learner._call_one, learn)
    elif fork=='smooth_loss': learn.remove_cb(SmoothLossOnDevice)
    return learn

def seconds_a_batch(dls, fork, on, epochs):
    set_seed(0)
    learn = learner(dls, fork, on)
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs)
    return (time.perf_counter()-start)/(epochs*len(dls.train))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--forks', nargs='+', default=['call_one','smooth_loss'], choices=['call_one','smooth_loss'])
    p.add_argument('--reps', type=int, default=5, help='repetitions of each pair, alternating')
    p.add_argument('--epochs', type=int, default=10)
    a = p.parse_args()
    dls = SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device='cpu')
    print(f"digits, {a.epochs} epochs of fit_one_cycle a run, {len(dls.train)} batches an epoch, best of {a.reps}; "
          f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    for fork in a.forks:
        ts = {True:[], False:[]}
        for _ in range(a.reps):
            for on in (True, False): ts[on].append(seconds_a_batch(dls, fork, on, a.epochs))
        fork_s,fastai_s = min(ts[True]),min(ts[False])
        pairs = sorted(1000*(f-o) for o,f in zip(ts[True], ts[False]))
        print(f"{fork:14s} with the fork {1000*fork_s:6.2f} ms a batch, fastai's way {1000*fastai_s:6.2f} ms: "
              f"the fork saves {1000*(fastai_s-fork_s):+.3f} ms a batch ({100*(fastai_s-fork_s)/fastai_s:+.1f}%); "
              f"pairs {', '.join(f'{d:+.2f}' for d in pairs)} ms", flush=True)

if __name__=='__main__': main()
