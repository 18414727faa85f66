"""A semi-supervised GAN trained by a hand-written PyTorch loop: the reference for `bench/speed.py` and the accuracy bisection.

It trains the same models on the same batch composition as `sgan_learner` + `fit_one_cycle` (per batch: `bs` unlabeled,
`bs_labeled` labeled and `bs` generated images through the discriminator in one pass, one Adam step of the
discriminator, its EMA, then one feature-matching step of the generator; Adam fused where PyTorch has it, as
`sgan_adam` does), with torch's `OneCycleLR` set up like
fastai's `fit_one_cycle` or with a constant lr. No fastai in the loop itself.

    .venv/bin/python bench/plain_sgan.py mnist --epochs 10 --sched constant
    .venv/bin/python bench/plain_sgan.py mnist --epochs 3 --sched constant --bs 32 --shift 2   # the variants tried
"""
import argparse, copy, time
from functools import partial
from pathlib import Path
import torch, torch.nn.functional as F

MNIST = Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'

def one_cycle(opt, lr, total, pct_start=0.25, div=25., div_final=1e5, mom=0.5):
    "torch's `OneCycleLR` with fastai's `fit_one_cycle` defaults (cosine warm-up and annealing), β1 held at `mom`"
    return torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=total, pct_start=pct_start, div_factor=div,
        final_div_factor=div_final/div, anneal_strategy='cos', cycle_momentum=False) if total else None

def plain_sgan(disc, gen, x, y, lab_idxs, unl_idxs, epochs, lr=3e-3, bs=64, bs_labeled=64, sched='one_cycle',
               ema_decay=0.999, seed=0, on_epoch=None, aug=None, ent=0., max_batches=None, n_gen=1):
    "Train `disc` and `gen` on images `x` (labels `y`, only `lab_idxs` used); returns the EMA of `disc` (or `disc`)"
    # `max_batches`: stop each epoch's training after that many batches (speed measurements); `n_gen`: generator steps a batch
    dev = x.device
    g = torch.Generator().manual_seed(seed)
    fused = dev.type in ('cpu','cuda') or None # PyTorch's fused Adam where it has one, as `sgan_adam` takes it
    opt_d = torch.optim.Adam([p for p in disc.parameters() if p.requires_grad], lr, betas=(0.5,0.999), fused=fused)
    opt_g = torch.optim.Adam([p for p in gen.parameters() if p.requires_grad], lr, betas=(0.5,0.999), fused=fused)
    nb = len(unl_idxs)//bs
    scheds = [one_cycle(o, lr, epochs*nb) for o in (opt_d,opt_g)] if sched=='one_cycle' else []
    ema = copy.deepcopy(disc).requires_grad_(False) if ema_decay else None
    k,step = disc.n_out,0
    for epoch in range(epochs):
        disc.train(); gen.train()
        unl = unl_idxs[torch.randperm(len(unl_idxs), generator=g)][:nb*bs].view(nb, bs)
        n_pass = -(-nb*bs_labeled//len(lab_idxs))
        lab = torch.cat([lab_idxs[torch.randperm(len(lab_idxs), generator=g)] for _ in range(n_pass)])[:nb*bs_labeled].view(nb, bs_labeled)
        for ub,lb in list(zip(unl.to(dev), lab.to(dev)))[:max_batches]:
            xu,xl,yl = x[ub],x[lb],y[lb]
            if aug: xu,xl = aug(torch.cat([xu, xl])).split([bs, bs_labeled])
            with torch.no_grad(): fake = gen.sample(bs)
            logits,_ = disc.logits(torch.cat([xu, xl, fake]))
            gl = disc.gan_logit(logits)
            loss_lab = F.cross_entropy(logits[bs:bs+bs_labeled, :k], yl)
            loss_unl = (F.softplus(-gl[:bs]).mean() + F.softplus(gl[bs+bs_labeled:]).mean())/2
            loss = loss_lab+loss_unl
            if ent:
                lp = F.log_softmax(logits[:bs, :k], 1)
                loss = loss + ent*-(lp.exp()*lp).sum(1).mean()
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            if ema is not None:
                d = min(ema_decay, (1+step)/(10+step))
                with torch.no_grad():
                    for e,p in zip(ema.parameters(), disc.parameters()): e.lerp_(p, 1-d)
            for _ in range(n_gen):
                with torch.no_grad(): real_feats = disc.logits(xu)[1]
                fake_feats = disc.logits(gen.sample(bs))[1]
                loss_gen = (real_feats.mean(0)-fake_feats.mean(0)).pow(2).mean()
                opt_g.zero_grad()
                loss_gen.backward(inputs=[p for p in gen.parameters() if p.requires_grad])
                opt_g.step()
            for s in scheds: s.step()
            step += 1
        if on_epoch: on_epoch(epoch, ema if ema is not None else disc, dict(loss_lab=loss_lab.item(), loss_unl=loss_unl.item(), loss_gen=loss_gen.item()))
    return ema if ema is not None else disc

def random_shift(xb, s=2):
    "Shift each image by a random whole number of pixels in [-s, s] in each direction, zeros coming in"
    n,c,h,w = xb.shape
    theta = torch.zeros(n, 2, 3, device=xb.device)
    theta[:,0,0] = theta[:,1,1] = 1
    off = torch.randint(-s, s+1, (n,2), device=xb.device).float()
    theta[:,0,2],theta[:,1,2] = off[:,0]*2/w,off[:,1]*2/h
    grid = F.affine_grid(theta, list(xb.shape), align_corners=False)
    return F.grid_sample(xb, grid, align_corners=False, padding_mode='zeros')

@torch.no_grad()
def accuracy(model, x, y, bs=1000):
    model.eval()
    correct = sum((model(x[i:i+bs]).argmax(1)==y[i:i+bs]).sum().item() for i in range(0, len(x), bs))
    model.train()
    return correct/len(x)

def main():
    from fastai.vision.all import set_seed
    from fastai_sgan.all import SemiSupervisedDataLoaders, default_models
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('task', choices=['digits','mnist'])
    p.add_argument('--epochs', type=int, default=None)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--sched', choices=['one_cycle','constant'], default='one_cycle')
    p.add_argument('--ema', type=float, default=0.999, help='EMA decay, 0: evaluate the discriminator itself')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--bs', type=int, default=None, help='unlabeled (and labeled) items per batch; default: the dls default')
    p.add_argument('--shift', type=int, default=0, help='random shifts of up to this many pixels of the real images')
    p.add_argument('--ent', type=float, default=0., help='weight of an entropy-minimization term on the unlabeled items')
    a = p.parse_args()
    set_seed(a.seed)
    kw = dict(bs=a.bs) if a.bs else {}
    dls = (SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=a.seed, device='cpu', **kw) if a.task=='digits' else
           SemiSupervisedDataLoaders.from_mnist(MNIST, n_labeled=100, seed=a.seed, device='cpu', **kw))
    tds,vds = dls.train_ds,dls.valid_ds
    x = tds.x.float()/255 if tds.x.dtype==torch.uint8 else tds.x
    xv = vds.x.float()/255 if vds.x.dtype==torch.uint8 else vds.x
    disc,gen = default_models(x.shape[1:], dls.c)
    epochs = a.epochs or (60 if a.task=='digits' else 10)
    start = time.perf_counter()
    def log(e, m, losses):
        print(f"epoch {e}: test accuracy {accuracy(m, xv, vds.y):.4f}  {losses}  {time.perf_counter()-start:.0f}s", flush=True)
    m = plain_sgan(disc, gen, x, tds.y, dls.labeled_idxs, dls.unlabeled_idxs, epochs, a.lr, dls.train.bs,
                   dls.train.bs_labeled, a.sched, a.ema, a.seed, on_epoch=log,
                   aug=partial(random_shift, s=a.shift) if a.shift else None, ent=a.ent)
    print(f"final test accuracy {accuracy(m, xv, vds.y):.4f}, {(time.perf_counter()-start)/epochs:.1f}s/epoch")

if __name__=='__main__': main()
