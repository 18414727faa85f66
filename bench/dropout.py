"""The cost of dropout in a discriminator's training step: torch's `nn.Dropout` against `FastDropout`, and no dropout.

    .venv/bin/python bench/dropout.py               # conv_discriminator(p=0.5) and salimans_discriminator, 192 images
    .venv/bin/python bench/dropout.py --reps 5 --bs 96

Times a forward and backward pass of `--bs` 32×32 colour images (64 + 64 real and 64 generated in an SGAN batch: 192)
through each discriminator, its dropout layers as built (`FastDropout`), swapped for torch's `nn.Dropout` of the same
`p`, or removed, in fp32, fp32 with channels-last inputs and weights, and bf16 autocast with channels-last; the best of
`--reps` runs after one to warm up. Also times the masks alone: `bernoulli_`, which `nn.Dropout` uses on a CPU, against
`keep_mask`, on one tensor of the size that follows the first block of Salimans' discriminator.
"""
import argparse, os, platform, time
import torch, torch.nn as nn
from fastai_sgan.all import conv_discriminator, salimans_discriminator, FastDropout, keep_mask

def swap(make, kind):
    "A new model from `make` (the same weights each time) with its `FastDropout` layers as they are ('fast'), as torch's `nn.Dropout` ('torch') or gone ('none')"
    torch.manual_seed(0)
    m = make()
    for name,mod in list(m.named_modules()):
        for cname,child in list(mod.named_children()):
            if isinstance(child, FastDropout) and kind!='fast':
                setattr(mod, cname, nn.Dropout(child.p) if kind=='torch' else nn.Identity())
    return m

def best_ms(f, reps):
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter(); f(); times.append(time.perf_counter()-t)
    return 1000*min(times)

def step(model, x, dtype):
    def f():
        with torch.autocast('cpu', dtype=dtype, enabled=dtype is not None): loss = model(x).float().logsumexp(1).mean()
        loss.backward()
    return f

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bs', type=int, default=192)
    p.add_argument('--reps', type=int, default=3)
    a = p.parse_args()
    flags = sorted({f for f in ('avx512_bf16','amx_bf16','avx2') if f' {f}' in open('/proc/cpuinfo').read()}) if os.path.exists('/proc/cpuinfo') else []
    print(f"{platform.machine()} {os.cpu_count()} CPUs ({' '.join(flags)}), torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"forward + backward of {a.bs} images 3×32×32, best of {a.reps}, ms")
    t = torch.empty(a.bs, 96, 16, 16)
    print(f"masks for {t.numel():,} elements: bernoulli_ {best_ms(lambda: torch.empty_like(t).bernoulli_(0.5), a.reps):.1f} ms, "
          f"keep_mask {best_ms(lambda: keep_mask(t, 0.5), a.reps):.1f} ms")
    models = {'conv_discriminator(p=0.5)': lambda: conv_discriminator(3, 10, 32, p=0.5), 'salimans_discriminator': lambda: salimans_discriminator(3, 10)}
    print(f"{'model':28s} {'format':16s} {'no dropout':>11s} {'nn.Dropout':>11s} {'FastDropout':>12s}")
    for name,model in models.items():
        for fmt,cl,dtype in (('fp32', False, None), ('fp32 CL', True, None), ('bf16 CL', True, torch.bfloat16)):
            x = torch.rand(a.bs, 3, 32, 32)
            if cl: x = x.contiguous(memory_format=torch.channels_last)
            res = {}
            for kind in ('none','torch','fast'):
                m = swap(model, kind).train()
                if cl: m = m.to(memory_format=torch.channels_last)
                res[kind] = best_ms(step(m, x, dtype), a.reps)
            print(f"{name:28s} {fmt:16s} {res['none']:11.0f} {res['torch']:11.0f} {res['fast']:12.0f}", flush=True)

if __name__=='__main__': main()
