"The training core: nothing left on the model after a failed fit, and the same seed giving the same run in separate processes"
import json, os, subprocess, sys, pytest, torch
from pathlib import Path
from fastai.vision.all import set_seed, Callback
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, supervised_learner

_HOOKS = ('_forward_hooks', '_forward_pre_hooks', '_backward_hooks', '_backward_pre_hooks', '_state_dict_hooks',
          '_load_state_dict_pre_hooks', '_load_state_dict_post_hooks')
def _handles(model):
    "Number of hooks of each kind on each module of `model`"
    return {(n,h): len(getattr(m, h, {})) for n,m in model.named_modules() for h in _HOOKS}

class _Raise(Callback):
    "Raise `exc` at training batch 2"
    def __init__(self, exc): self.exc = exc
    def before_batch(self):
        if self.training and self.iter==2: raise self.exc

@pytest.mark.parametrize('exc', [RuntimeError('boom'), KeyboardInterrupt()], ids=['error', 'interrupt'])
@pytest.mark.parametrize('mk', [sgan_learner, supervised_learner], ids=['sgan', 'supervised'])
def test_no_handle_left_after_failed_fit(digits, exc, mk):
    set_seed(0)
    learn = mk(digits)
    before = _handles(learn.model)
    with pytest.raises(type(exc)): learn.fit(1, cbs=_Raise(exc))
    assert _handles(learn.model)==before
    with learn.no_bar(), learn.no_logging(): learn.fit(1) # a later fit and predict: still nothing added
    learn.predict(digits.valid_ds[0][0])
    assert _handles(learn.model)==before

_API = """
import json, sys
from fastai.vision.all import set_seed
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner
set_seed(3)
dls = SemiSupervisedDataLoaders.from_digits(n_labeled=50, device='cpu')
learn = sgan_learner(dls)
with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(2)
print(json.dumps([[float(v) for v in r] for r in learn.recorder.values]))
"""

def _env(hashseed): return {**os.environ, 'PYTHONHASHSEED': hashseed}

def test_same_seed_same_run_python_api():
    "`set_seed` then data and learner, as fastai's docs show: two processes record the same values"
    runs = [subprocess.run([sys.executable, '-c', _API], capture_output=True, text=True, timeout=300, env=_env(h)) for h in ('1','2')]
    for r in runs: assert r.returncode==0, r.stderr[-2000:]
    a,b = [json.loads(r.stdout.strip().splitlines()[-1]) for r in runs]
    assert len(a)==2 and a==b

def test_same_seed_same_run_cli(tmp_path):
    "`sgan-train` with the same --seed in two processes: the same history and accuracy"
    def train(out, h):
        r = subprocess.run([sys.executable, '-m', 'fastai_sgan', '--epochs', '2', '--no-baseline', '--seed', '1', '--out', str(out)],
                           capture_output=True, text=True, timeout=300, env=_env(h))
        assert r.returncode==0, r.stderr[-2000:]
        rows = [l.split(',') for l in (out/'history.csv').read_text().splitlines()]
        time_col = rows[0].index('time')
        return [[v for i,v in enumerate(row) if i!=time_col] for row in rows],json.loads((out/'results.json').read_text())['sgan']['accuracy']
    (h1,a1),(h2,a2) = train(tmp_path/'a', '1'),train(tmp_path/'b', '2')
    assert len(h1)==3 and h1==h2 and a1==a2


def test_all_brings_every_public_name():
    "`fastai_sgan.all` is written by hand: every module's `__all__` must arrive, with fastai's vision API"
    import importlib, pkgutil, fastai_sgan
    ns = {}
    exec('from fastai_sgan.all import *', ns)
    for m in pkgutil.iter_modules(fastai_sgan.__path__):
        if m.name in ('all', 'distributed') or m.name.startswith('_'): continue # distributed needs accelerate: imported on its own
        names = importlib.import_module(f'fastai_sgan.{m.name}').__all__
        assert names, m.name
        missing = [n for n in names if n not in ns]
        assert not missing, f"fastai_sgan.all misses {missing} of fastai_sgan.{m.name}: add the module to all.py"
    for n in ('Learner', 'DataLoaders', 'untar_data', 'SemiSupervisedDataLoaders', 'sgan_learner', 'RandomShift', 'read_images'):
        assert n in ns, n
