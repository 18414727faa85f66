"""Real CIFAR-10: the SGAN against the labels alone, read the fastai way (`untar_data(URLs.CIFAR)`, `from_folder`).

    .venv/bin/python bench/cifar.py --n-labeled 4000 --epochs 6            # test set, 2 seeds, SGAN and both baselines
    .venv/bin/python bench/cifar.py --split --seeds 0 --no-baseline         # 45,000/5,000 split of the training photos
    .venv/bin/python bench/cifar.py --split --seeds 0 --kw n_gen=1 --kw ema=0.99   # an option of sgan_learner
    .venv/bin/python bench/cifar.py --split --seeds 0 --disc salimans       # Salimans' discriminator for every learner
    .venv/bin/python bench/cifar.py --split --seeds 0 --ema-probe 0 0.99 0.995   # also the network itself and two other EMAs
    .venv/bin/python bench/cifar.py --time 40                                # seconds a batch of each learner, 40 batches
    .venv/bin/python bench/cifar.py --time 40 --precision fp32 --channels-last off   # the same, fp32 in the channels-first format
    python bench/cifar.py --device cuda --budget 120 --seeds 0 --no-baseline     # as many epochs as fit in 2 minutes (bench/gpu_check.sh)

The data: `untar_data(URLs.CIFAR)`, where `tools/local_data.py` lays out the copy in `../shared` (CIFAR-10 re-encoded as
JPEG, about quality 75: figures from it are "CIFAR-10 (JPEG copy)"); `FASTAI_HOME` defaults to the clone's
`.fastai_home`. `from_folder(path, valid='test', n_labeled=N, batch_tfms=[Flip(), RandomShift(2)])`: `--n-labeled` labels,
balanced, among the 50,000 training photos, which are all the unlabeled pool; validation on the 10,000 test photos.
With `--split`, `valid_pct=0.1` holds out 5,000 training photos (500 a class) instead, to choose settings without the
test set; the labels then come from the other 45,000.

Three learners, each for `--epochs` of `fit_one_cycle` with its defaults: `sgan_learner(dls)` (`--kw` adds arguments),
`supervised_learner(dls)` on the same batches (`labels`), and `supervised_learner` on batches also changed by
`colour_tfms()` (`labels_strong`, the stronger baseline when the SGAN learns from `colour_tfms` views). The accuracy
reported is the last epoch's on the held-out photos; the gain is over the better baseline. `--budget S` times 20
batches, then trains the SGAN for as many epochs as fit in S seconds (at least one) and prints each epoch's test
accuracy against the seconds since the start of training. `--n-unlabeled` keeps part of the unlabeled pool (tiny runs).
`--ema-probe 0 0.99` also evaluates, each epoch, the trained network itself (0) and EMAs of it with the given decays,
beside what the learner reports (for the SGAN, its EMA of decay `ema`): one run measures the EMA's decay.
"""
import argparse, copy, json, os, platform, subprocess, sys, time
from pathlib import Path
import numpy as np, torch
from fastai.vision.all import set_seed, untar_data, URLs, Flip, L, Callback, CancelFitException, Recorder
from fastai_sgan.all import (SemiSupervisedDataLoaders, sgan_learner, supervised_learner, RandomShift, colour_tfms, auto_precision,
                             cpu_has_bf16, conv_discriminator, salimans_discriminator, SaveSamples, plot_history)
sys.path.insert(0, str(Path(__file__).parent))
from choose import parse_kws, kws_json

ROOT = Path(__file__).resolve().parents[1]
DISCS = dict(default=None, salimans=lambda: salimans_discriminator(3, 10),
             wide=lambda: conv_discriminator(3, 10, 32, widths=(64,128,256)),
             deep=lambda: conv_discriminator(3, 10, 32, n_conv=3))

def cifar_path()->Path:
    "`untar_data(URLs.CIFAR)`, with the local copy laid out first where `FASTAI_HOME` has none"
    os.environ.setdefault('FASTAI_HOME', str(ROOT/'.fastai_home'))
    subprocess.run([sys.executable, str(ROOT/'tools'/'local_data.py')], check=True, stdout=subprocess.DEVNULL)
    return untar_data(URLs.CIFAR)

def cifar_dls(path, n_labeled, seed, split=False, bs=64, strong=False, device='cpu', n_unlabeled=None):
    "CIFAR-10's loaders: `n_labeled` labels; validation on the test photos, or (`split`) on 5,000 training photos"
    tfms = [Flip(), RandomShift(2)] + (list(colour_tfms()) if strong else [])
    kw = dict(valid_pct=0.1) if split else dict(valid='test')
    return SemiSupervisedDataLoaders.from_folder(path, train='train', n_labeled=n_labeled, seed=seed, bs=bs, batch_tfms=tfms,
                                                 device=device, n_unlabeled=n_unlabeled, **kw)

def learner(kind, dls, a, kws, out):
    disc = DISCS[a.disc]
    kw = dict(precision=a.precision if a.channels_last=='auto' else 'fp32', path=out) | ({} if disc is None else dict(discriminator=disc()))
    learn = sgan_learner(dls, **kw, **kws) if kind=='sgan' else supervised_learner(dls, **kw)
    return learn if a.channels_last=='auto' else learn.to_precision(a.precision, channels_last=a.channels_last=='on')

class StopAfter(Callback):
    "Stop the fit after `n` training batches"
    def __init__(self, n): self.n = n
    def after_batch(self):
        if self.training and self.iter+1>=self.n: raise CancelFitException()

def run(path, a, kws, seed, kind):
    set_seed(seed)
    dls = cifar_dls(path, a.n_labeled, seed, a.split, a.bs, strong=kind=='labels_strong', device=a.device, n_unlabeled=a.n_unlabeled)
    out = Path(a.out)/f'{kind}_seed{seed}'
    learn = learner(kind, dls, a, kws, out)
    cbs = [SaveSamples('samples', n=64, nrow=8)] if kind=='sgan' else []
    epochs = a.epochs
    if a.budget: # time 20 batches (after 3 to warm up), then as many epochs as fit
        n = min(20, len(dls.train))
        with learn.no_bar(), learn.no_logging():
            learn.fit(1, cbs=StopAfter(3)); t = time.perf_counter(); learn.fit(1, cbs=StopAfter(n))
        per_batch = (time.perf_counter()-t)/n
        epochs = max(1, int(a.budget/(per_batch*len(dls.train)*1.1))) # a tenth more for validation
        print(f"  {per_batch:.3f} s a batch, {len(dls.train)} batches an epoch: {epochs} epochs in {a.budget} s", flush=True)
        set_seed(seed); learn = learner(kind, dls, a, kws, out) # the timed steps leave no trace
    print(f"  {kind}: precision {learn.precision}{' channels-last' if hasattr(learn, 'channels_last') else ''}", flush=True)
    times,probe = EpochTimes(),EMAProbe(a.ema_probe) if a.ema_probe else None
    cbs += [times] + ([probe] if probe else [])
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, cbs=cbs)
    secs = time.perf_counter()-start
    accs = [float(v[2]) for v in learn.recorder.values]
    if kind=='sgan': plot_history(learn, out/'history.png')
    r = dict(accuracy=accs[-1], per_epoch=accs, seconds=secs, epoch_seconds=times.times, epochs=epochs,
             batches=epochs*len(dls.train), precision=learn.precision, channels_last=hasattr(learn, 'channels_last'))
    if probe: r['probe'] = {str(d):v for d,v in probe.accs.items()}
    return r

class EMAProbe(Callback):
    "Also evaluate, after each epoch, the trained network itself (`decay` 0) and EMAs of it with other `decays` on the validation photos"
    order = Recorder.order+2 # after the Recorder and `EpochTimes`
    def __init__(self, decays): self.decays,self.accs = list(decays),{d:[] for d in decays}
    def _net(self): return getattr(self.learn.model, 'disc', self.learn.model) # the SGAN's discriminator, or the labels-only network
    def before_fit(self):
        net = self._net()
        self.emas = {d:copy.deepcopy(net).requires_grad_(False) for d in self.decays if d}
        self.t = 0
    @torch.no_grad()
    def after_batch(self):
        if not self.training: return
        net = self._net()
        src,bufs = list(net.parameters()),list(net.buffers())
        for d,m in self.emas.items(): # the package's ramp: min(decay, (1+t)/(10+t))
            torch._foreach_lerp_(list(m.parameters()), src, 1-min(d, (1+self.t)/(10+self.t)))
            for b,c in zip(m.buffers(), bufs): b.copy_(c)
        self.t += 1
    @torch.no_grad()
    def after_epoch(self):
        for d in self.decays:
            m = self.emas[d] if d else self._net()
            was = m.training; m.eval()
            hits = n = 0
            for x,y in self.dls.valid:
                hits += int((m(x)[:, :self.dls.c].argmax(1)==y).sum()); n += len(y)
            m.train(was)
            self.accs[d].append(hits/n)
        print('    probe: '+', '.join(f"{'network' if not d else f'EMA {d}'} {100*v[-1]:.2f}%" for d,v in self.accs.items()), flush=True)

class EpochTimes(Callback):
    "Print each epoch's accuracy against the seconds since the start of training"
    order = Recorder.order+1 # after the Recorder has the epoch's values
    def before_fit(self): self.start,self.times = time.perf_counter(),[]
    def after_epoch(self):
        self.times.append(time.perf_counter()-self.start)
        print(f"    epoch {self.epoch} secs {self.times[-1]:.1f} test accuracy {100*float(self.recorder.values[-1][2]):.2f}%", flush=True)

def time_batches(path, a, kws, kind):
    "Seconds a training batch of `kind`, over `a.time` batches after 5 warm-up batches"
    set_seed(0)
    dls = cifar_dls(path, a.n_labeled, 0, True, a.bs, strong=kind=='labels_strong', device=a.device)
    learn = learner(kind, dls, a, kws, Path(a.out)/'time')
    print(f"  {kind}: precision {learn.precision}{' channels-last' if hasattr(learn, 'channels_last') else ''}", flush=True)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, cbs=StopAfter(5))
        start = time.perf_counter()
        learn.fit(1, cbs=StopAfter(a.time))
    return dict(seconds_a_batch=(time.perf_counter()-start)/a.time, precision=learn.precision, channels_last=hasattr(learn, 'channels_last'))

def cpu_name():
    try: return next(l.split(':',1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

def cpu_flags():
    try: text = open('/proc/cpuinfo').read()
    except OSError: return []
    return sorted({f for f in ('avx512_bf16','amx_bf16','avx512f','avx2') if f' {f}' in text})

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n-labeled', type=int, default=4000, help='labeled training photos, balanced (400 a class for 4,000)')
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--seeds', type=int, nargs='+', default=[0,1])
    p.add_argument('--bs', type=int, default=64, help='unlabeled (and labeled) photos a batch')
    p.add_argument('--split', action='store_true', help='validate on 5,000 training photos, not the test set')
    p.add_argument('--disc', default='default', choices=list(DISCS), help="every learner's discriminator: the default conv one, "
                   "Salimans' (96/192 channels, dropout), a wider (64/128/256) or a deeper (3 convs a block) default one")
    p.add_argument('--kw', action='append', default=[], metavar='NAME=VALUE', help='more arguments of sgan_learner (repeat)')
    p.add_argument('--kinds', nargs='+', default=['sgan','labels','labels_strong'], choices=['sgan','labels','labels_strong'])
    p.add_argument('--no-baseline', action='store_true', help='the SGAN only')
    p.add_argument('--budget', type=float, default=0, metavar='S', help='train for as many epochs as fit in S seconds (not --epochs)')
    p.add_argument('--n-unlabeled', type=int, default=None, help='keep this many photos of the unlabeled pool (default: all)')
    p.add_argument('--time', type=int, default=0, metavar='N', help='only time N training batches of each learner')
    p.add_argument('--device', default='cpu')
    p.add_argument('--precision', default='auto', choices=['auto','fp32','bf16'])
    p.add_argument('--channels-last', default='auto', choices=['auto','on','off'], help="the memory format (auto: the faster, measured on a CPU)")
    p.add_argument('--ema-probe', type=float, nargs='+', default=[], metavar='DECAY',
                   help="also evaluate, each epoch, the network itself (0) and EMAs of it with these decays (e.g. 0 0.99 0.995)")
    p.add_argument('--out', default='bench/out/cifar')
    p.add_argument('--json', default=None, help='also write the results to this file')
    a = p.parse_args()
    kws = parse_kws(p, a.kw)
    kinds = ['sgan'] if a.no_baseline else a.kinds
    print(f"{cpu_name()} ({', '.join(cpu_flags())}), {os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"device {a.device}, precision {a.precision}" + (" (each learner's is measured: SGANLearner.to_precision)" if a.precision in ('auto','fp32') and a.device=='cpu' else ''))
    path = cifar_path()
    where = '5,000 held-out training photos (split)' if a.split else 'the 10,000 test photos'
    print(f"CIFAR-10 (JPEG copy): {a.n_labeled:,} labels, batches of {a.bs}+{a.bs}, {a.epochs} epochs, seeds {a.seeds}, on {where}; "
          f"discriminator {a.disc}" + (f"; sgan_learner: {' '.join(a.kw)}" if a.kw else ''), flush=True)
    res = dict(settings={k:(str(v) if isinstance(v, Path) else v) for k,v in vars(a).items()} | dict(kw=kws_json(kws, a.kw)),
               cpu=cpu_name(), cpu_flags=cpu_flags())
    if a.time:
        for kind in kinds:
            res[kind] = time_batches(path, a, kws, kind)
            print(f"  {kind:13s} {res[kind]['seconds_a_batch']:.3f} s a batch", flush=True)
    else:
        for kind in kinds:
            runs = []
            for s in a.seeds:
                r = run(path, a, kws, s, kind)
                runs.append(r)
                print(f"  {kind:13s} seed {s}: accuracy {100*r['accuracy']:.2f}%  {r['seconds']:.0f} s ({r['seconds']/r['batches']:.3f} s a batch); "
                      f"by epoch {[round(100*v,1) for v in r['per_epoch']]}", flush=True)
            accs = [r['accuracy'] for r in runs]
            res[kind] = dict(runs=runs, mean=float(np.mean(accs)), std=float(np.std(accs)))
            print(f"{kind:13s} mean {100*np.mean(accs):.2f}% ± {100*np.std(accs):.2f} ({np.mean([r['seconds'] for r in runs]):.0f} s a run)", flush=True)
        base = [res[k]['mean'] for k in ('labels','labels_strong') if k in res]
        if 'sgan' in res and base: print(f"gain over the better baseline: {100*(res['sgan']['mean']-max(base)):+.2f} points")
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1))

if __name__=='__main__': main()
