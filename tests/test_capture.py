"""The captured step (`CapturedStep`, `sgan_learner(capture=True)`): traced whole by `torch.compile(fullgraph=True)`,
the same training as eager, one graph for every batch and fit, its state updated in place, and eager fits (with one
warning saying why) where it cannot run. Compiled with the 'aot_eager' backend, which traces as inductor does and
compiles in seconds; `bench/speed.py --capture` times inductor's."""
import warnings
import pytest, torch
from fastai.vision.all import L, Adam, Callback, CancelFitException, GradientClip, set_seed, load_learner
from fastai_sgan.all import (SemiSupervisedDataLoaders, sgan_learner, CapturedStep, ConsistencyTerm, SGANLossParts,
                             StopOnDivergence, FAKE)

class StopAfter(Callback):
    "End the fit after `n` training batches"
    order = 99
    def __init__(self, n): self.n = n
    def after_batch(self):
        if self.training and self.iter+1==self.n: raise CancelFitException

def _digits(): return SemiSupervisedDataLoaders.from_digits(n_labeled=50, seed=0, bs=32, device='cpu')
def _colour(): # conv models: weight-normed convolutions, transposed convolutions, dropout, 2 generator steps
    set_seed(0)
    x,y = torch.rand(160,3,16,16),torch.arange(160)%3
    return SemiSupervisedDataLoaders.from_tensors(x, y, x[:16], y[:16], n_labeled=12, bs=16, device='cpu')

class Graphs:
    "A `torch.compile` backend that counts the graphs it is given and runs them as AOTAutograd's eager backend"
    def __init__(self): self.n = 0
    def __call__(self, gm, inputs):
        from torch._dynamo.backends.common import aot_autograd
        self.n += 1
        return aot_autograd(fw_compiler=lambda g,_: g, bw_compiler=lambda g,_: g)(gm, inputs)

def _fit(make_dls, capture, n=None, epochs=1, cbs=None, **kwargs):
    set_seed(0)
    dls = make_dls()
    learn = sgan_learner(dls, cbs=L(cbs)+([StopAfter(n)] if n else []), **kwargs)
    if capture: learn.capture(backend=capture)
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, 3e-3)
    return learn

def _diffs(a, b):
    sa,sb = a.model.state_dict(),b.model.state_dict()
    return {k:float((sa[k].float()-sb[k].float()).abs().max()) for k in sa}
def _max_diff(a, b, gen=True):
    "The largest difference of the discriminators' (and EMAs') tensors, and (with `gen`) of the generators' images in training mode"
    # not the generators' own tensors: the bias before a batch norm has a gradient of 0 but for rounding, which Adam's
    # normalized steps make as large as any other, in a direction that changes no image
    ds = [v for k,v in _diffs(a, b).items() if not k.startswith('generator.')]
    if not gen: return max(ds)
    torch.manual_seed(0)
    z = a.model.generator.noise(16)
    with torch.no_grad(): imgs = [l.model.generator.train()(z) for l in (a,b)]
    return max(ds+[float((imgs[0]-imgs[1]).abs().max())])

@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    with torch._inductor.config.patch(fallback_random=True): yield # compiled random numbers: torch's own, as eager draws them

@pytest.mark.parametrize('data', [_digits, _colour])
def test_captured_matches_eager(data):
    "Three batches captured (one graph, no break) give the eager fit's losses and weights, to float rounding"
    g = Graphs()
    with warnings.catch_warnings():
        warnings.simplefilter('error') # no fallback to eager
        cap = _fit(data, g, n=3)
    eager = _fit(data, None, n=3)
    assert g.n==1 # traced whole: a break would raise under fullgraph=True, a second graph would count 2
    assert len(cap.recorder.losses)==3
    torch.testing.assert_close(torch.stack(cap.recorder.losses), torch.stack(eager.recorder.losses), rtol=1e-3, atol=1e-5)
    # the conv generator's L1 feature matching has a gradient of ±1 an element: where rounding flips a sign early,
    # Adam's first steps (about lr each, whatever the gradient's size) take the generators apart, so only the
    # discriminators are compared there
    assert _max_diff(cap, eager, gen=data is _digits)<1e-3
    assert int(cap.model.ema_steps)==int(eager.model.ema_steps)==3
    for p in cap.model.parameters(): assert p.grad is None # after the fit, as fastai's `zero_grad` leaves them

def test_one_graph_state_in_place():
    "Two fits of two epochs: one graph; the step's state (gradients, Adam's moments and steps, sums, flags) never moves"
    g,ptrs = Graphs(),[]
    class Ptrs(Callback):
        order = 100
        def after_batch(self):
            if not self.training: return
            cs = self.learn.captured_step
            ptrs.append(tuple(t.data_ptr() for t in cs._state()))
            assert all(p.grad is not None for p in cs.grads_)
    set_seed(0)
    learn = sgan_learner(_digits(), cbs=Ptrs()).capture(backend=g)
    with learn.no_bar(), learn.no_logging():
        learn.fit(2, 3e-3)
        n1 = len(ptrs)
        learn.fit_one_cycle(1) # other hyper-parameters every batch: tensors, no new graph
    assert g.n==1 and len(ptrs)==n1+len(learn.dls.train)==3*len(learn.dls.train)
    assert len(set(ptrs[:n1]))==1 and len(set(ptrs[n1:]))==1
    parts = learn.sgan_loss_parts # the metrics came from inside the step
    assert parts.n==len(learn.dls.train) and all(v==v for v in parts.means.values())
    assert learn.recorder.values[-1][-1]>0 # acc_lab

def test_lr_schedule_reaches_the_step():
    "`fit_one_cycle`'s lr and β1 reach the captured step: its weights follow the eager ones over a scheduled fit"
    cap = _fit(_digits, 'aot_eager', n=6, lr=1e-2)
    eager = _fit(_digits, None, n=6, lr=1e-2)
    set_seed(0)
    l2 = sgan_learner(_digits(), cbs=StopAfter(6)).capture(backend='aot_eager')
    with l2.no_bar(), l2.no_logging(): l2.fit_one_cycle(1, 1e-2)
    set_seed(0)
    l3 = sgan_learner(_digits(), cbs=StopAfter(6))
    with l3.no_bar(), l3.no_logging(): l3.fit_one_cycle(1, 1e-2)
    assert _max_diff(cap, eager)<1e-3 and _max_diff(l2, l3)<1e-3
    assert _max_diff(l2, cap)>1e-3 # the schedule made a difference, and both sides saw it

class Fewer(Callback):
    "Drop two unlabeled images from the third training batch: a batch of another shape"
    order = 50
    def before_batch(self):
        if self.training and self.iter==2: self.learn.xb,self.learn.yb = (self.xb[0][2:],),(self.yb[0][2:],)

def test_batch_of_another_shape_runs_eagerly():
    "A batch of another shape takes fastai's eager step, and the next ones the graph again"
    g = Graphs()
    cap = _fit(_digits, g, n=5, cbs=Fewer())
    eager = _fit(_digits, None, n=5, cbs=Fewer())
    assert g.n==1 and _max_diff(cap, eager)<1e-4

@pytest.mark.parametrize('why,kwargs,match', [
    ('a callback with an inner event', dict(cbs=GradientClip()), 'GradientClip needs the events inside the step'),
    ('terms', dict(terms=[ConsistencyTerm(1.)]), r'the loss has terms \(ConsistencyTerm\)'),
    ('bf16', dict(precision='bf16'), r'mixed precision \(bf16\)'),
    ("fastai's own Adam", dict(opt_func=Adam), "an optimizer is not torch's Adam"),
])
def test_falls_back_with_one_warning(why, kwargs, match):
    "What needs the step's inner events runs eagerly, the same fit as without `capture`, with one warning saying why"
    with pytest.warns(UserWarning, match=match) as rec:
        cap = _fit(_digits, 'aot_eager', n=3, **kwargs)
    assert sum('CapturedStep' in str(w.message) for w in rec)==1
    eager = _fit(_digits, None, n=3, **kwargs)
    assert _max_diff(cap, eager)==0

def test_lr_find_runs_eagerly():
    set_seed(0)
    learn = sgan_learner(_digits(), capture=True)
    with pytest.warns(UserWarning, match='`lr_find` steps the discriminator only'):
        with learn.no_bar(): learn.lr_find(num_it=5, show_plot=False)

def test_compile_failure_runs_eagerly():
    "A backend that fails: one warning with its error, and the fit goes on eagerly"
    def broken(gm, inputs): raise RuntimeError('no kernels for this')
    with pytest.warns(UserWarning, match='torch.compile failed .*no kernels for this.*runs eagerly'):
        cap = _fit(_digits, broken, n=3)
    assert _max_diff(cap, _fit(_digits, None, n=3))==0

def test_export_after_a_captured_fit(tmp_path):
    "Nothing compiled is left in the learner: it exports, and the export predicts"
    learn = _fit(_digits, 'aot_eager', n=3)
    assert learn.captured_step.fn is None
    learn.export(tmp_path/'cap.pkl')
    l2 = load_learner(tmp_path/'cap.pkl')
    x = learn.dls.valid_ds[0][0]
    assert l2.predict(x)[0]==learn.predict(x)[0]
