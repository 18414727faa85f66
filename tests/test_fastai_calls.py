"Everyday fastai calls on both learners and on each data path (in-memory tensors, image folders, a DataFrame of files)"
import pytest, torch, numpy as np, pandas as pd, matplotlib.pyplot as plt
from fastai.vision.all import set_seed, load_learner, ClassificationInterpretation, Callback, Learner, ShortEpochCallback
from fastai.callback.all import (SaveModelCallback, EarlyStoppingCallback, CSVLogger, ShowGraphCallback, GradientAccumulation,
                                 GradientClip, ReduceLROnPlateau, TerminateOnNaNCallback)
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, supervised_learner, SGANLoss

def _digits(): return SemiSupervisedDataLoaders.from_digits(n_labeled=50, bs=64, device='cpu')
def _folder(root, in_memory):
    return lambda: SemiSupervisedDataLoaders.from_folder(root, 'training', 'testing', n_labeled=50, bs=32, in_memory=in_memory, device='cpu')
def _df(root):
    fns = sorted(p.relative_to(root) for p in root.glob('*/*/*.png'))
    df = pd.DataFrame(dict(fn=[str(f) for f in fns], label=[f.parent.name for f in fns], is_valid=[f.parts[0]=='testing' for f in fns]))
    return lambda: SemiSupervisedDataLoaders.from_df(df, root, valid_col='is_valid', n_labeled=50, bs=32, in_memory=False, device='cpu')

def _calls(learn, dls, tmp, full):
    "The everyday calls, each a (name, function) pair: those that depend on the data path, or (`full`) all"
    x0 = dls.valid_ds[0][0]
    def interp():
        i = ClassificationInterpretation.from_learner(learn)
        i.plot_confusion_matrix(); i.plot_top_losses(4)
        assert isinstance(i.most_confused(), list)
    def preds():
        inp,p,t,dec,loss = learn.get_preds(with_input=True, with_decoded=True, with_loss=True)
        assert p.shape==(len(dls.valid_ds), dls.c) and torch.allclose(p.sum(1), torch.ones(len(p)))
        assert torch.equal(dec, p.argmax(1)) and loss.shape==(len(p),)
    def export():
        learn.export(tmp/'e.pkl')
        cls,idx,probs = load_learner(tmp/'e.pkl').predict(x0)
        assert str(cls) in [str(v) for v in dls.vocab] and probs.shape==(dls.c,)
    def save_best():
        learn.fit_one_cycle(2, cbs=SaveModelCallback(monitor='accuracy'))
        assert (tmp/'models'/'model.pth').exists()
    def early():
        learn.fit(4, cbs=EarlyStoppingCallback(monitor='accuracy', comp=np.greater, min_delta=1.0, patience=0))
        assert len(learn.recorder.values)<4
    def csv():
        learn.fit(1, cbs=CSVLogger(fname=tmp/'h.csv'))
        assert 'accuracy' in (tmp/'h.csv').read_text().splitlines()[0]
    def tta():
        p,t = learn.tta(n=2)
        assert p.shape==(len(dls.valid_ds), dls.c) and torch.isfinite(p).all()
    data = [('fit_one_cycle + SaveModelCallback(monitor)', save_best), ('tta', tta), ('show_results', lambda: learn.show_results()),
            ('ClassificationInterpretation', interp), ('get_preds(with_decoded=True)', preds), ('export, load_learner, predict', export)]
    if not full: return data # the calls that depend on the data path
    return [('lr_find (fresh learner)', lambda: learn.lr_find(num_it=10, show_plot=False))] + data + [('EarlyStoppingCallback', early), ('CSVLogger', csv),
            ('ShowGraphCallback', lambda: learn.fit(1, cbs=ShowGraphCallback())),
            ('GradientAccumulation', lambda: learn.fit(1, cbs=GradientAccumulation(n_acc=64))),
            ('GradientClip', lambda: learn.fit(1, cbs=GradientClip())),
            ('ReduceLROnPlateau', lambda: learn.fit(2, cbs=ReduceLROnPlateau(monitor='valid_loss'))),
            ('TerminateOnNaNCallback', lambda: learn.fit(1, cbs=TerminateOnNaNCallback())),
            ('fit_flat_cos', lambda: learn.fit_flat_cos(1)), ('fit_sgdr', lambda: learn.fit_sgdr(1, 1)),
            ('fine_tune', lambda: learn.fine_tune(1))]

PATHS = ['tensors', 'folder in memory', 'folder from files', 'DataFrame of files']

@pytest.mark.parametrize('kind', ['sgan', 'supervised'])
@pytest.mark.parametrize('path', PATHS)
def test_everyday_calls(path, kind, mnist_folder, tmp_path):
    make = {'tensors': _digits, 'folder in memory': _folder(mnist_folder, True), 'folder from files': _folder(mnist_folder, False),
            'DataFrame of files': _df(mnist_folder)}[path]
    set_seed(0)
    dls = make()
    mk = sgan_learner if kind=='sgan' else supervised_learner
    learn = mk(dls, path=tmp_path)
    failed = []
    for name,f in _calls(learn, dls, tmp_path, full=path=='tensors'): # with the progress bar and logging on, as in a notebook (`ShowGraphCallback` needs them)
        try: f()
        except Exception as e: failed.append(f'{name}: {type(e).__name__}: {e}')
        plt.close('all')
    assert not failed, '\n'.join(failed)

# --- SGANLearner's event dispatch: the same calls as fastai's, fewer lookups
class _Events(Callback):
    "Record each event this callback defines"
    def __init__(self, log, tag): self.log,self.tag = log,tag
    def before_fit(self): self.log.append((self.tag, 'before_fit'))
    def before_batch(self): self.log.append((self.tag, 'before_batch', self.training))
    def after_loss(self): self.log.append((self.tag, 'after_loss', self.training))
    def after_epoch(self): self.log.append((self.tag, 'after_epoch'))
    def after_fit(self): self.log.append((self.tag, 'after_fit'))

class _TrainOnly(_Events): run_valid = False

def _event_log(learner_cls, digits):
    from fastai_sgan.learner import SGANLearner
    log = []
    set_seed(0)
    learn = learner_cls(digits, torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)), loss_func=SGANLoss(10),
                        cbs=[_Events(log, 'a'), _TrainOnly(log, 'b'), Callback(after_batch=lambda cb: log.append(('c', 'after_batch')))])
    with learn.no_bar(), learn.no_logging(): learn.fit(2, cbs=ShortEpochCallback(0.1, short_valid=False))
    cb = learn.cbs[-1]
    cb.run = False # a callback that turned itself off is on again after the fit, as with fastai's dispatch
    learn('after_fit')
    return log,cb.run

def test_event_dispatch_as_fastai(digits):
    from fastai_sgan.learner import SGANLearner
    mine,fastai = _event_log(SGANLearner, digits),_event_log(Learner, digits)
    assert mine==fastai and mine[0] and mine[1]
    assert ('b', 'before_batch', False) not in mine[0] and ('a', 'before_batch', False) in mine[0] # run_valid kept
