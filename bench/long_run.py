"""A long MNIST-100 run: `sgan_learner` + `fit_one_cycle(epochs)` with the defaults, test accuracy after every epoch.

Meant for a GPU (Salimans et al. 2016 report 99.07% ± 0.065 after hundreds of epochs). The accuracy that counts is the
final epoch's; the per-epoch test accuracies are only reported (as the time to reach 99%), never used to pick a model.
Writes `history.csv` (fastai's `CSVLogger`: the recorder's values each epoch) and `result.json` to `--out`.

    python bench/long_run.py --device cuda --epochs 100                 # 600 batches of 100+100 per epoch
    python bench/long_run.py --device cuda --epochs 100 --bs 32        # the CPU default batch (1875 batches per epoch)
    python bench/long_run.py --device cuda --epochs 100 --noise 0.3 0.5   # Salimans' noise levels in the MLP
    python bench/long_run.py --device cpu --epochs 100 --bs 256 --aug 2 0 0   # shifts only (Salimans' augmentation)
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
import torch
from fastai.vision.all import set_seed, Callback, CSVLogger
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, mlp_discriminator
sys.path.insert(0, str(Path(__file__).parent))
from speed import StopTraining

MNIST = Path(__file__).resolve().parents[2]/'shared'/'data'/'mnist'

class EpochLog(Callback):
    "Print and keep, after each epoch, the seconds since the start of `fit` and the recorder's values"
    order = 100 # after the Recorder
    def __init__(self, targets=(0.97, 0.98, 0.99)): self.targets,self.rows,self.reached = targets,[],{}
    @property
    def t_target(self): return self.reached.get(0.99)
    def before_fit(self): self.start = time.perf_counter()
    def after_epoch(self):
        secs = time.perf_counter()-self.start
        # by name, not by position in the recorder's log (which leaves the training loss out of an epoch cut short)
        vals = dict(train_loss=self.recorder.smooth_loss.value, valid_loss=self.recorder.loss.value, **{m.name:m.value for m in self.learn.metrics})
        row = dict(epoch=self.epoch+1, secs=round(secs, 1), **{k:round(float(v), 4) for k,v in vals.items() if v is not None})
        self.rows.append(row)
        for t in self.targets:
            if t not in self.reached and row['accuracy']>=t: self.reached[t] = (self.epoch+1, secs)
        print(' '.join(f"{k} {v}" for k,v in row.items()), flush=True)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--epochs', type=int, default=100)
    p.add_argument('--bs', type=int, default=100, help='unlabeled images per batch (Salimans: 100)')
    p.add_argument('--bs-labeled', type=int, default=100)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--lr', type=float, default=None, help="peak lr of fit_one_cycle; default: the learner's")
    p.add_argument('--noise', type=float, nargs=2, default=None, metavar=('INPUT','HIDDEN'),
                   help="Gaussian noise of Salimans' MLP discriminator (his: 0.3 0.5); default: default_models' levels")
    p.add_argument('--aug', type=float, nargs=3, default=None, metavar=('SHIFT','ROTATE','ZOOM'),
                   help="from_mnist's shift, max_rotate, zoom (`digit_tfms`); default: from_mnist's (2 20 0.2)")
    p.add_argument('--batches', type=int, default=None, help='training batches per epoch (then validation); default: all')
    p.add_argument('--device', default='cuda')
    p.add_argument('--data', default=str(MNIST))
    p.add_argument('--out', default='bench/out/long_run')
    a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    set_seed(a.seed)
    aug = dict(zip(('shift','max_rotate','zoom'), (int(a.aug[0]),*a.aug[1:]))) if a.aug else {}
    dls = SemiSupervisedDataLoaders.from_mnist(a.data, n_labeled=100, bs=a.bs, bs_labeled=a.bs_labeled, seed=a.seed, device=a.device, **aug)
    log = EpochLog()
    disc = mlp_discriminator(noise_in=a.noise[0], noise_hidden=a.noise[1]) if a.noise else None
    learn = sgan_learner(dls, discriminator=disc, lr=a.lr, cbs=[log, CSVLogger(out/'history.csv')]
                         + ([StopTraining(a.batches)] if a.batches else []))
    dev = torch.device(a.device)
    name = torch.cuda.get_device_name(dev) if dev.type=='cuda' else platform.processor() or platform.machine()
    print(f"MNIST-100, seed {a.seed}: {a.epochs} epochs of fit_one_cycle (lr {learn.lr}, noise {a.noise or 'default'}, aug {a.aug or 'default'}), {len(dls.train)} batches of "
          f"{a.bs}+{a.bs_labeled} per epoch; device {name}; {os.cpu_count()} CPUs; torch {torch.__version__}", flush=True)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs)
    if dev.type=='cuda': torch.cuda.synchronize()
    secs = time.perf_counter()-log.start
    acc = log.rows[-1]['accuracy']
    res = dict(seed=a.seed, epochs=a.epochs, bs=a.bs, bs_labeled=a.bs_labeled, lr=learn.lr, noise=a.noise, aug=a.aug, device=name, accuracy=acc, error=1-acc,
               secs=secs, secs_per_epoch=secs/a.epochs, epoch_to_99=log.t_target and log.t_target[0], secs_to_99=log.t_target and log.t_target[1],
               secs_to={f'{t:.2f}': log.reached[t][1] for t in log.reached}, epoch_to={f'{t:.2f}': log.reached[t][0] for t in log.reached})
    (out/'result.json').write_text(json.dumps(res, indent=1))
    print(f"final epoch: test accuracy {100*acc:.2f}% (error {100*(1-acc):.2f}%), {secs:.0f}s ({secs/a.epochs:.2f}s/epoch); "
          + '; '.join(f"{100*t:.0f}% first reached after epoch {log.reached[t][0]} ({log.reached[t][1]:.0f}s)" if t in log.reached
                      else f"{100*t:.0f}% not reached" for t in log.targets))

if __name__=='__main__': main()
