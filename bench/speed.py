"""Training speed: `sgan_learner` + `fit_one_cycle` against the plain PyTorch loop of `bench/plain_sgan.py`.

Both train the same default models on the same batch composition (bs unlabeled + bs_labeled labeled + bs generated images
through the discriminator, then `default_n_gen` generator steps: 2 on MNIST, 1 on the digits; the real images augmented
by the dls's batch transforms in training mode; the same Adam implementation), validate once per epoch, on the same
device. The two are run
alternately, `--reps` times each, and the best time of each counts: on a shared machine the best of several runs is
steadier than one run; the median ratio of neighbouring pairs of runs is printed too. With `--batches N` each epoch stops training after N batches, then validates as usual. Also
reports the training loader's throughput, and fastai's own cost per batch: `Learner` + `fit_one_cycle` with its
default callbacks on a one-layer model and ready-made batches, against a plain loop doing the same steps; that cost
does not depend on the model, so on small models it caps the ratio.

    .venv/bin/python bench/speed.py mnist            # 1 epoch of MNIST (1875 batches of 32+100) per run
    .venv/bin/python bench/speed.py mnist --batches 600   # quicker: the first 600 batches, then validation
    .venv/bin/python bench/speed.py digits --epochs 20
    .venv/bin/python bench/speed.py colour --batches 40   # conv models, SVHN-like stand-in: fp32 against precision='auto'
    .venv/bin/python bench/speed.py colour --batches 40 --vs-plain   # the conv models against the plain loop, in fp32
    .venv/bin/python bench/speed.py mnist --batches 600 --precision auto   # the fastai side in the automatic precision
    .venv/bin/python bench/speed.py mnist --batches 600 --capture   # also `sgan_learner(capture=True)`: one compiled step a batch

`colour` (unless `--vs-plain`) times `sgan_learner(dls)` in fp32 against `sgan_learner(dls, precision='auto')` (bf16
autocast and channels-last where the device computes in bf16, else fp32 again), alternately, and prints the speed-up
with the CPU's model and instruction flags: the automatic choice should be about twice as fast on a CPU with
AVX-512 BF16/AMX, and no slower on one without.
"""
import argparse, itertools, os, platform, sys, time
from functools import partial
from pathlib import Path
import torch
from fastai.vision.all import (set_seed, TensorImage, Callback, CancelTrainException, Pipeline, IntToFloatTensor, Learner,
                               DataLoaders, MSELossFlat)
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, default_models, default_lr, default_n_gen, sgan_adam, auto_precision, cpu_has_bf16
from fastai_sgan.cli import _loader_speed as loader_speed
sys.path.insert(0, str(Path(__file__).parent))
from plain_sgan import plain_sgan, accuracy, one_cycle, MNIST
from colour import svhn_dls

def make_dls(task, device, mnist=MNIST):
    if task=='digits': return SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, device=device)
    if task=='colour': return svhn_dls(0, n_train=10_000, n_test=2_000, device=device, mnist=mnist)
    return SemiSupervisedDataLoaders.from_mnist(mnist, n_labeled=100, seed=0, device=device)

class StopTraining(Callback):
    "End each epoch's training after `n` batches (validation still runs)"
    order = 100
    def __init__(self, n): self.n = n
    def after_batch(self):
        if self.training and self.iter+1>=self.n: raise CancelTrainException

def cpu_flags()->str:
    "The CPU's model name and the instruction flags that decide the precision (from /proc/cpuinfo where there is one)"
    info = Path('/proc/cpuinfo').read_text() if Path('/proc/cpuinfo').exists() else ''
    name = next((l.split(':',1)[1].strip() for l in info.splitlines() if l.startswith('model name')), platform.processor() or platform.machine())
    flags = set(next((l.split(':',1)[1].split() for l in info.splitlines() if l.startswith('flags')), []))
    shown = [f for f in ('avx2','avx512f','avx512_bf16','amx_bf16') if f in flags]
    return f"{name}; flags: {' '.join(shown) or 'none of avx2/avx512f/avx512_bf16/amx_bf16'}; bf16 instructions (torch): {cpu_has_bf16()}"

class FirstBatch(Callback):
    "Time the fit's first training batch (with `capture`, it compiles the step), from `before_fit` to its `after_batch`"
    order = 101
    def before_fit(self): self.start,self.secs = time.perf_counter(),None
    def after_batch(self):
        if self.training and self.secs is None:
            _sync(self.dls.device)
            self.secs = time.perf_counter()-self.start

def run_fastai(dls, epochs, batches=None, precision='fp32', capture=None, first=None):
    "Seconds of `fit_one_cycle(epochs)`; with `capture` (a `torch.compile` backend), the captured step"
    set_seed(0)
    fb = FirstBatch()
    learn = sgan_learner(dls, cbs=[fb]+([StopTraining(batches)] if batches else []), precision=precision)
    if capture: learn.capture(backend=capture)
    if dls.device.type=='cuda': torch.cuda.synchronize()
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs)
    if dls.device.type=='cuda': torch.cuda.synchronize()
    if first is not None: first.append(fb.secs)
    return time.perf_counter()-start

def run_plain(dls, epochs, batches=None):
    set_seed(0)
    tds,vds = dls.train_ds,dls.valid_ds
    x = tds.x.float()/255 if tds.x.dtype==torch.uint8 else tds.x.float()
    xv = vds.x.float()/255 if vds.x.dtype==torch.uint8 else vds.x.float()
    disc,gen = default_models(x.shape[1:], dls.c)
    disc,gen = disc.to(dls.device),gen.to(dls.device)
    # the same augmentation as the dls: its batch transforms after `IntToFloatTensor` (affine, `RandomShift`), in training mode
    augs = Pipeline([t for t in dls.train.after_batch.fs if not isinstance(t, IntToFloatTensor)], split_idx=0)
    aug = (lambda xb: augs(TensorImage(xb)).as_subclass(torch.Tensor)) if len(augs.fs) else None
    if dls.device.type=='cuda': torch.cuda.synchronize()
    start = time.perf_counter()
    plain_sgan(disc, gen, x, tds.y, dls.labeled_idxs, dls.unlabeled_idxs, epochs, default_lr(x.shape[1:]), dls.train.bs, dls.train.bs_labeled,
               on_epoch=lambda e,m,l: accuracy(m, xv, vds.y), aug=aug, max_batches=batches, n_gen=default_n_gen(x.shape[1:]))
    if dls.device.type=='cuda': torch.cuda.synchronize()
    return time.perf_counter()-start

class ReadyBatches:
    "A loader of `n` times the batch `b`: no cost of its own"
    def __init__(self, n, b): self.n,self.b = n,b
    def __len__(self): return self.n
    def __iter__(self): return itertools.repeat(self.b, self.n)

def _sync(dev):
    if dev.type=='cuda': torch.cuda.synchronize(dev)

def fastai_floor(dev, n=2000, reps=3):
    "Seconds a batch of `Learner` + `fit_one_cycle` and of a plain loop (Adam, `OneCycleLR`) training a 4→1 linear model on `dev`"
    b = (torch.randn(8, 4, device=dev), torch.randn(8, 1, device=dev))
    def fastai():
        learn = Learner(DataLoaders(ReadyBatches(n, b), ReadyBatches(1, b)), torch.nn.Linear(4, 1).to(dev), loss_func=MSELossFlat(),
                        opt_func=sgan_adam)
        _sync(dev)
        start = time.perf_counter()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-3)
        _sync(dev)
        return (time.perf_counter()-start)/n
    def plain():
        m = torch.nn.Linear(4, 1).to(dev)
        opt = torch.optim.Adam(m.parameters(), 1e-3, betas=(0.5, 0.999), fused=True)
        sched = one_cycle(opt, 1e-3, n)
        _sync(dev)
        start = time.perf_counter()
        for _ in range(n):
            loss = torch.nn.functional.mse_loss(m(b[0]), b[1])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        _sync(dev)
        return (time.perf_counter()-start)/n
    return min(fastai() for _ in range(reps)),min(plain() for _ in range(reps))

def compare_precisions(dls, epochs, batches, reps, n_img):
    "Time `sgan_learner` in fp32 and in `precision='auto'`, alternately; print both and the speed-up"
    l = sgan_learner(dls, precision='auto')
    auto = l.precision + (' + channels-last' if hasattr(l, 'channels_last') else '')
    times = {'fp32':[], 'auto':[]}
    for r in range(reps):
        for name in times:
            t = run_fastai(dls, epochs, batches, precision=name)
            times[name].append(t)
            print(f"  run {r}: {name:4s} {t:6.1f}s  {n_img/t:8,.0f} real images/s", flush=True)
    best = {k:min(v) for k,v in times.items()}
    pairs = sorted(f/u for f,u in zip(times['fp32'], times['auto']))
    what = auto + ('' if auto.startswith('bf16') else ': bf16 is no faster here')
    print(f"fp32: {best['fp32']/(epochs*batches):.3f} s a batch, {n_img/best['fp32']:,.0f} images/s; "
          f"auto ({what}): {best['auto']/(epochs*batches):.3f} s a batch, {n_img/best['auto']:,.0f} images/s")
    print(f"speed-up of precision='auto' over fp32: {best['fp32']/best['auto']:.2f}× best against best; "
          f"pairs {', '.join(f'{p:.2f}' for p in pairs)}")

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('task', choices=['digits','mnist','colour'])
    p.add_argument('--epochs', type=int, default=None, help='epochs per run; default 1 (mnist), 20 (digits)')
    p.add_argument('--reps', type=int, default=3, help='runs of each, alternating')
    p.add_argument('--batches', type=int, default=None, help='training batches per epoch; default: all')
    p.add_argument('--device', default='cpu')
    p.add_argument('--mnist', default=MNIST, help='folder of the MNIST IDX files')
    p.add_argument('--precision', default='fp32', choices=['fp32','bf16','auto'], help="the fastai side's precision (sgan_learner's `precision`)")
    p.add_argument('--vs-plain', action='store_true', help='colour: the fastai side against the plain loop, not fp32 against auto')
    p.add_argument('--fastai-only', action='store_true', help='time the fastai side only (no plain loop, no ratio)')
    p.add_argument('--capture', action='store_true', help='also time `sgan_learner(capture=True)` (one compiled step a batch), between the two')
    p.add_argument('--capture-backend', default='inductor', help="torch.compile's backend for --capture ('aot_eager': a quick check)")
    p.add_argument('--floor-batches', type=int, default=2000, help="batches of each run measuring fastai's own cost")
    a = p.parse_args()
    dev = torch.device(a.device)
    epochs = a.epochs or (20 if a.task=='digits' else 1)
    dls = make_dls(a.task, dev, a.mnist)
    batches = min(a.batches or len(dls.train), len(dls.train))
    gpu = torch.cuda.get_device_name(dev) if dev.type=='cuda' else None
    print(f"{a.task}: {epochs} epoch(s) per run, {batches} of {len(dls.train)} batches of {dls.train.bs}+{dls.train.bs_labeled} real "
          f"+ {dls.train.bs} generated images; device {gpu or dev}; {platform.machine()} {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"CPU: {cpu_flags()}")
    n_img = epochs*batches*(dls.train.bs+dls.train.bs_labeled)
    if a.task=='colour' and not a.vs_plain: return compare_precisions(dls, epochs, batches, a.reps, n_img)
    times = {'fastai':[], 'plain':[]}
    firsts = {'fastai':[], 'captured':[]}
    sides = [('fastai',partial(run_fastai, precision=a.precision, first=firsts['fastai'])), ('plain',run_plain)]
    if a.capture:
        times['captured'] = []
        sides.insert(1, ('captured',partial(run_fastai, precision=a.precision, capture=a.capture_backend, first=firsts['captured'])))
    for r in range(a.reps):
        for name,f in [s for s in sides if s[0]!='plain'] if a.fastai_only else sides:
            t = f(dls, epochs, batches)
            times[name].append(t)
            print(f"  run {r}: {name:6s} {t:6.1f}s  {n_img/t:8,.0f} real images/s", flush=True)
    if a.fastai_only:
        t = min(times['fastai'])
        print(f"sgan_learner + fit_one_cycle: {n_img/t:,.0f} images/s, {t/(epochs*batches):.4f} s a batch (precision {a.precision})")
        return
    best = {k:min(v) for k,v in times.items()}
    pairs = sorted(p/f for f,p in zip(times['fastai'], times['plain'])) # each fastai run against the plain run right after it
    print(f"ratio of each pair of runs: {', '.join(f'{r:.3f}' for r in pairs)}; median {pairs[len(pairs)//2]:.3f}")
    print(f"seconds a batch: sgan_learner {best['fastai']/(epochs*batches):.3f}, plain loop {best['plain']/(epochs*batches):.3f}"
          + f" (fastai side: precision {a.precision})")
    print(f"sgan_learner + fit_one_cycle: {n_img/best['fastai']:,.0f} images/s; plain PyTorch loop: {n_img/best['plain']:,.0f} "
          f"images/s; ratio (fastai/plain) {best['plain']/best['fastai']:.3f}")
    if a.capture:
        c,f = best['captured'],best['fastai']
        pc = sorted(t/u for t,u in zip(times['fastai'], times['captured']))
        print(f"captured step (capture=True): {n_img/c:,.0f} images/s, {c/(epochs*batches):.4f} s a batch; against eager "
              f"{f/c:.3f}× (pairs {', '.join(f'{p:.3f}' for p in pc)}), against the plain loop {best['plain']/c:.3f}×")
        for k,v in firsts.items():
            print(f"first training batch, {k}: {', '.join(f'{t:.2f}' for t in v)} s (captured: the compile; torch caches it after the first run)")
        steady = {k:min(t-u for t,u in zip(times[k], firsts[k])) for k in firsts}
        print(f"without the first batch: eager {steady['fastai']/(epochs*batches-1):.4f}, captured {steady['captured']/(epochs*batches-1):.4f} "
              f"s a batch ({steady['fastai']/steady['captured']:.3f}×)")
    print(f"training loader alone: {loader_speed(dls.train):,.0f} images/s")
    ff,fp = fastai_floor(dev, a.floor_batches)
    per_batch = best['plain']/(epochs*batches)
    print(f"fastai's own cost on {dev} (Learner + fit_one_cycle, its default callbacks, a 4→1 linear model on ready-made batches): "
          f"{ff*1e3:.2f} ms a batch against {fp*1e3:.2f} ms in a plain loop; at the plain loop's {per_batch*1e3:.1f} ms a "
          f"batch here, that difference alone caps the ratio at {per_batch/(per_batch+ff-fp):.3f}")

if __name__=='__main__': main()
