"Checkpoints and classifier files written by fastai_sgan 0.1.0 (`tests/data/make_v010.py`) load into this version and predict the same"
import re, torch, pytest
from pathlib import Path
from fastcore.test import test_close as _close, test_eq as _eq
from fastai_sgan.all import SemiSupervisedDataLoaders
from fastai_sgan.models import mlp_discriminator, mlp_generator, conv_discriminator, conv_generator
from fastai_sgan.learner import sgan_learner, load_classifier

DATA = Path(__file__).parent/'data'

def _learners(dls):
    return dict(
        mlp=sgan_learner(dls, discriminator=mlp_discriminator(64, sizes=(32,16)), generator=mlp_generator((1,8,8), nz=8, sizes=(16,))),
        conv=sgan_learner(dls, discriminator=conv_discriminator(1, size=8, widths=(8,)), generator=conv_generator((1,8,8), nz=8, nf=8)))

@pytest.fixture(scope='module')
def dls(): return SemiSupervisedDataLoaders.from_digits(n_labeled=20, n_valid=100, bs=16, bs_labeled=16, device='cpu')

@pytest.mark.parametrize('name', ['mlp', 'conv'])
def test_checkpoint_of_010_loads(dls, name):
    "A 0.1.0 `learn.save(with_opt=True)` (weight norm's keys `weight_g`/`weight_v`) loads, optimizer state included, and trains on"
    learn = _learners(dls)[name]
    learn.load(DATA/f'v010_{name}', with_opt=True)
    ref = torch.load(DATA/f'v010_{name}_preds.pt', weights_only=True)
    learn.model.eval()
    with torch.no_grad(): _close(learn.model(ref['x']), ref['preds'], eps=1e-5)
    new = {'weight_g':'parametrizations.weight.original0', 'weight_v':'parametrizations.weight.original1'}
    _eq([n for n,_ in learn.model.generator.named_parameters()], [re.sub('weight_[gv]$', lambda m: new[m[0]], n) for n in ref['gen']]) # in 0.1.0's order
    saved = torch.load(DATA/f'v010_{name}.pth', weights_only=False)
    for opt,key in ((learn.opt, 'opt'), (learn.gen_opt, 'gen_opt')): # the moments went to the right tensors
        o = getattr(opt, 'opt', opt)
        sts = [(p,o.state[p]) for g in o.param_groups for p in g['params'] if p in o.state]
        _eq(len(sts), len(saved[key]['state']))
        for p,st in sts: _eq(st['exp_avg'].shape, p.shape)
        for i,st in saved[key]['state'].items(): _eq(o.state_dict()['state'][i]['exp_avg'], st['exp_avg'])
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)

@pytest.mark.parametrize('name', ['mlp', 'conv'])
def test_classifier_of_010_loads(dls, name):
    "A 0.1.0 `save_classifier` file loads with `load_classifier`"
    disc = _learners(dls)[name].model.disc
    disc,vocab = load_classifier(DATA/f'v010_{name}_classifier.pth', disc)
    ref = torch.load(DATA/f'v010_{name}_preds.pt', weights_only=True)
    with torch.no_grad(): _close(disc(ref['x']), ref['preds'], eps=1e-5)
    _eq(vocab, [str(i) for i in range(10)])
