"""What each fork of a fastai internal buys: a batch's time with it and with fastai's own public way, alternately.

fastai_sgan keeps four small forks of fastai's internals for speed. Each run here trains `sgan_learner` on the digits
(`fit_one_cycle`, no progress bar) twice per repetition, with the fork and with fastai's own way in its place, and
prints the best time a batch of each and the difference:

- `call_one`: `SGANLearner._call_one`, which keeps, for the same callbacks, the list of those that have an event,
  against fastai's `Learner._call_one`, which sorts the callbacks and asks each one for each event;
- `optim_wrapper`: `SGANOptimWrapper` (`sgan_adam`'s), with a quicker `hypers` and `set_hyper`, against fastai's
  `OptimWrapper` around the same fused torch Adam;
- `hyper_sync`: `SGANTrainer._sync_hypers` copying the discriminator's param group into the generator's optimizer,
  against fastai's public `set_hyper` for each hyper-parameter that changed;
- `smooth_loss`: `SmoothLossOnDevice` against fastai's `AvgSmoothLoss`. On a CPU both cost the same; on a GPU the
  fork saves one host sync a batch (`bench/syncs.py --device cuda` counts it), which this script cannot show.

    .venv/bin/python bench/forks.py                 # all four, 5 repetitions of 10 epochs
    .venv/bin/python bench/forks.py --forks call_one --reps 9
"""
import argparse, platform, time, types
import torch
from fastai.vision.all import set_seed, Learner, OptimWrapper
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, SmoothLossOnDevice, SGANTrainer

def plain_adam(params, lr=3e-3, mom=0.5, sqr_mom=0.999, eps=1e-8, wd=0.):
    "`sgan_adam` in fastai's own `OptimWrapper`"
    return OptimWrapper(list(params), torch.optim.Adam, lr=lr, betas=(mom,sqr_mom), eps=eps, weight_decay=wd, fused=True)

def set_hyper_sync(self):
    "`SGANTrainer._sync_hypers` through fastai's public `set_hyper` only"
    for k,v in self.opt.hypers[-1].items():
        if isinstance(v, (int,float)) and not isinstance(v, bool) and self.gen_hypers.get(k)!=v:
            self.learn.gen_opt.set_hyper(k, float(v)*(self.gen_lr_mult if k=='lr' else 1))
            self.gen_hypers[k] = v

def learner(dls, fork, on):
    "`sgan_learner(dls)`, with fastai's own way in place of `fork` where `on` is false"
    learn = sgan_learner(dls, opt_func=None if on or fork!='optim_wrapper' else plain_adam)
    if on: return learn
    if fork=='call_one': learn._call_one = types.MethodType(Learner._call_one, learn)
    elif fork=='hyper_sync':
        tr = learn.sgan_trainer
        tr._sync_hypers = types.MethodType(set_hyper_sync, tr)
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
    p.add_argument('--forks', nargs='+', default=['call_one','optim_wrapper','hyper_sync','smooth_loss'])
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
