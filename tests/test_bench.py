"`bench/choose.py`: the held-out part comes from the training images only, and the script runs end to end"
import importlib.util, inspect, json, subprocess, sys
from pathlib import Path
import pytest, torch
from fastai_sgan.all import GaussianNoise, default_models, load_digits, mlp_discriminator
from fastai_sgan.all import UNLABELED, SemiSupervisedDataLoaders
from conftest import MNIST

BENCH = Path(__file__).resolve().parents[1]/'bench'

def _choose():
    spec = importlib.util.spec_from_file_location('choose', BENCH/'choose.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

def test_split_digits_never_reads_the_test_set():
    ch = _choose()
    xt,yt,xv,yv = ch.split('digits')
    x,_,x_test,_ = load_digits(500, 0)
    assert (len(xt),len(xv))==(997,300)
    rows = lambda a: {tuple(r.flatten().tolist()) for r in a}
    assert rows(xt)|rows(xv) <= rows(x)  # both parts from the bench's training digits ...
    assert not rows(xv) & rows(x_test)   # ... the held-out part is not the bench's test set
    assert torch.equal(ch.split('digits')[2], xv)  # the same split every run

def test_split_mnist(mnist):
    ch = _choose()
    xt,yt,xv,yv = ch.split('mnist')
    assert (len(xt),len(xv))==(50_000,10_000)
    dls = ch.make_dls('mnist', (xt,yt,xv,yv), 0, 'cpu')
    defaults = inspect.signature(SemiSupervisedDataLoaders.from_mnist).parameters  # the split runs as the bench does
    assert dls.train.bs==defaults['bs'].default and dls.train.bs_labeled==defaults['bs_labeled'].default
    assert [type(t).__name__ for t in dls.train.after_batch.fs]==[type(t).__name__ for t in
            SemiSupervisedDataLoaders.from_mnist(MNIST, seed=0).train.after_batch.fs]
    assert len(dls.labeled_idxs)==100 and (dls.train_ds.y[dls.labeled_idxs]!=UNLABELED).all()

@pytest.mark.parametrize('task', ['digits','mnist'])
def test_split_labels_of(task, mnist):
    "`--labels-of S`: the training part's only labels are the images the full-data run of seed S labels"
    ch = _choose()
    xt,yt,xv,yv = ch.split(task, labels_of=3)
    full = SemiSupervisedDataLoaders.from_digits(seed=3) if task=='digits' else SemiSupervisedDataLoaders.from_mnist(MNIST, seed=3)
    lab_x,lab_y = full.train_ds.x[full.labeled_idxs],full.train_ds.y[full.labeled_idxs]
    assert len(xv)==(300 if task=='digits' else 10_000) and len(xt)+len(xv)==len(full.train_ds)
    dls = ch.make_dls(task, (xt,yt,xv,yv), 0, 'cpu')  # a different seed for the loaders: the labels stay those of seed 3
    assert torch.equal(dls.train_ds.x[dls.labeled_idxs].float(), lab_x.float()) and torch.equal(dls.train_ds.y[dls.labeled_idxs], lab_y)
    assert int((yt!=UNLABELED).sum())==len(lab_x)
    rows = lambda a: {r.tobytes() for r in a.flatten(1).float().numpy()}
    assert not rows(xv) & rows(lab_x)  # the held-out part never holds a labeled image
    assert rows(xt)|rows(xv) <= rows(full.train_ds.x)  # and nothing from the test set

def test_discriminator_noise():
    ch = _choose()
    dls = ch.make_dls('digits', ch.split('digits'), 0, 'cpu')
    assert ch.discriminator(dls) is None  # the learner's own defaults
    torch.manual_seed(0)
    d = ch.discriminator(dls, (0.05, 0.4))
    assert [m.sigma for m in d.modules() if isinstance(m, GaussianNoise)]==[0.05, 0.4, 0.4, 0.4]
    ref,_ = default_models((1,8,8), 10)
    assert [p.shape for p in d.parameters()]==[p.shape for p in ref.parameters()]
    # reading the default sizes draws no random numbers: the same weights as building that MLP directly
    torch.manual_seed(0)
    e = mlp_discriminator(64, 10, sizes=(500,250,250), noise_in=0.05, noise_hidden=0.4)
    assert all(torch.equal(a, b) for a,b in zip(d.state_dict().values(), e.state_dict().values()))

def test_kw_arg():
    ch = _choose()
    assert ch.kw_arg('n_gen=2')==('n_gen', 2) and ch.kw_arg("gen_loss=ns")==('gen_loss', 'ns')
    with pytest.raises(Exception, match='name=value'): ch.kw_arg('n_gen')
    k,tfms = ch.kw_arg('cons_tfm=digit_tfms(3,0,0)') # transforms for the second views
    assert k=='cons_tfm' and [type(t).__name__ for t in tfms]==['RandomShift'] and tfms[0].max_shift==3
    with pytest.raises(Exception, match=r'digit_tfms\(2,20,0.2\)'): ch.kw_arg('cons_tfm=digit_tfms(x)')
    k,tfms = ch.kw_arg('cons_tfm=colour_tfms()') # strong colour views
    assert k=='cons_tfm' and 'RandomErasing' in [type(t).__name__ for t in tfms]
    with pytest.raises(Exception, match=r'colour_tfms\(0.4,2\)'): ch.kw_arg('cons_tfm=colour_tfms(x)')
    texts = ['n_gen=2', 'cons_tfm=digit_tfms(1,0,0)']
    assert ch.kws_json(dict(map(ch.kw_arg, texts)), texts)=={'n_gen':2, 'cons_tfm':'digit_tfms(1,0,0)'}
    k,ts = ch.kw_arg("terms=[ConsistencyTerm(1,'ce',tfm=digit_tfms(2,20,0.2)), ManifoldTerm(1e-4)]") # regularizers
    assert k=='terms' and [type(t).__name__ for t in ts]==['ConsistencyTerm','ManifoldTerm'] and (ts[0].kind,ts[1].weight)==('ce',1e-4)
    with pytest.raises(Exception, match=r'write e.g. terms=\[ManifoldTerm'): ch.kw_arg('terms=[Foo()]')
    texts = ['terms=[ManifoldTerm(1e-4)]']
    assert ch.kws_json(dict(map(ch.kw_arg, texts)), texts)=={'terms':'[ManifoldTerm(1e-4)]'}

def test_choose_runs(tmp_path):
    out = tmp_path/'r.json'
    r = subprocess.run([sys.executable, str(BENCH/'choose.py'), 'digits', '--epochs', '3', '--seeds', '0', '1',
                        '--noise', '0.15', '0.3', '--kw', 'n_gen=1', '--confused', '2', '--json', str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode==0, r.stderr
    assert '997 training / 300 held-out' in r.stdout and 'sgan mean' in r.stdout
    assert r.stdout.count('most confused (true, predicted, count): [(')==2  # one list of pairs a seed
    res = json.loads(out.read_text())
    assert res['seeds']==[0,1] and res['noise']==[0.15,0.3] and res['kw']=={'n_gen':1} and len(res['accuracy'])==2
    assert all(a>0.2 for a in res['accuracy'])  # chance is 0.1
    r = subprocess.run([sys.executable, str(BENCH/'choose.py'), 'digits', '--kw', 'n_gen'], capture_output=True, text=True)
    assert r.returncode==2 and 'name=value' in r.stderr

def test_headline_runs(mnist_folder):
    "`bench/headline.py`: the README's first example, as written, end to end on a small MNIST PNG folder"
    r = subprocess.run([sys.executable, str(BENCH/'headline.py'), '--path', str(mnist_folder), '--epochs', '1', '--compare'],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode==0, r.stderr
    lines = [l for l in r.stdout.splitlines() if 'test accuracy' in l]
    assert len(lines)==2 and lines[0].startswith("from_folder(path, train='training', valid='testing', n_labeled=100)")
    accs = [float(l.split('test accuracy ')[1].split('%')[0]) for l in lines]
    assert all(0<=a<=100 for a in accs), accs  # a percentage (one epoch of 3 batches learns nothing yet)

def test_write_folder(tmp_path):
    "`bench/data_speed.py`'s MNIST PNG folders: fastai's URLs.MNIST layout, the real digits"
    spec = importlib.util.spec_from_file_location('data_speed', BENCH/'data_speed.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    m.write_folder(tmp_path, MNIST, 3)
    from fastai_sgan.all import load_mnist
    from PIL import Image
    import numpy as np
    x,y,xt,yt = load_mnist(MNIST)
    assert sorted(p.name for p in tmp_path.iterdir())==['testing','training']
    train = sorted((tmp_path/'training').rglob('*.png')); test = sorted((tmp_path/'testing').rglob('*.png'))
    assert len(train)==30 and len(test)==200
    for f in train[:5]+test[:5]:
        i = int(f.stem); xs,ys = (x,y) if f.parts[-3]=='training' else (xt,yt)
        assert int(ys[i])==int(f.parent.name) and (np.array(Image.open(f))==xs[i].numpy()).all()
    big = tmp_path/'big'
    m.write_folder(big, MNIST, 1, size=64, rgb=True)
    im = Image.open(next((big/'training'/'7').glob('*.png')))
    assert im.size==(64,64) and im.mode=='RGB'

def test_gpu_check_cpu_parts(tmp_path):
    "`bench/gpu_check.sh` with tiny sizes on the CPU: every part runs, each writes its file, and the table is made"
    import os
    env = {**os.environ, 'GPU_CHECK_DEVICE': 'cpu', 'GPU_CHECK_MNIST': str(MNIST), 'PY': sys.executable, 'OUT': str(tmp_path),
           'GPU_CHECK_CIFAR': str(MNIST.parent/'cifar10'/'cifar10-jpg.tgz'),
           'OMP_NUM_THREADS': '1'}
    r = subprocess.run(['bash', str(BENCH/'gpu_check.sh')], capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode==0, r.stdout[-3000:]+r.stderr[-3000:]
    assert {'syncs.txt', 'syncs.json', 'speed_mnist.txt', 'speed_conv.txt', 'long_seed0.log', 'cifar.log', 'cifar.json', 'summary.txt'} <= {p.name for p in tmp_path.iterdir()}
    table = (tmp_path/'summary.txt').read_text()
    import re
    assert re.search(r'host syncs a training batch +0 at most', table), table
    for row in ('calibration: plain Learner 0, with one planted .item() 1',
                'MNIST MLP, fastai/plain', 'MNIST MLP, captured step', 'MNIST MLP ms a batch after the first, eager / captured',
                "fastai's own cost a batch (cpu)", 'conv models fp32, real images/s', 'MNIST-100 seconds to 97%',
                'MNIST-100 final', 'CIFAR-10 (JPEG copy) 4,000 labels, test accuracy against seconds'):
        assert row in table, (row, table)

def test_colour_curve(tmp_path):
    "`bench/colour_curve.py`: the gain is over the better baseline; a split run or a file without both learners is refused"
    spec = importlib.util.spec_from_file_location('colour_curve', BENCH/'colour_curve.py')
    cc = importlib.util.module_from_spec(spec); spec.loader.exec_module(cc)
    runs = lambda *a: dict(runs=[dict(accuracy=x, precision='bf16') for x in a])
    def write(name, n, split=False, strong=False, **kinds):
        (tmp_path/name).write_text(json.dumps({**kinds, 'settings': dict(n_labeled=n, epochs=12, split=split, baseline_strong=strong)}))
        return tmp_path/name
    f250 = write('a.json', 250, sgan=runs(0.80, 0.82), supervised=runs(0.70, 0.70))
    f1000 = write('b.json', 1000, sgan=runs(0.95, 0.95), supervised=runs(0.88, 0.90))
    s1000 = write('c.json', 1000, strong=True, supervised=runs(0.92, 0.92))
    rs = cc.rows([f1000, f250], [s1000])
    assert [o['labels'] for o in rs]==[250, 1000]
    t = cc.table(rs).splitlines()
    assert '**+11.00**' in t[2] and '**+3.00**' in t[3] and '92.00% ± 0.00' in t[3] # 95 against the strong baseline's 92, not 89
    cc.plot(rs, tmp_path/'g.png')
    assert (tmp_path/'g.png').stat().st_size>1000
    for bad in (write('d.json', 250, split=True, sgan=runs(0.8), supervised=runs(0.7)), write('e.json', 250, sgan=runs(0.8)),
                write('f.json', 250, sgan=runs(0.8), labels=runs(0.7))): # a bench/cifar.py file without the strong baseline
        with pytest.raises(SystemExit): cc.rows([bad])
    # bench/cifar.py files (real CIFAR-10): the three learners in one file
    c250 = write('g.json', 250, sgan=runs(0.40), labels=runs(0.30), labels_strong=runs(0.35))
    c1000 = write('h.json', 1000, sgan=runs(0.57), labels=runs(0.55), labels_strong=runs(0.54))
    rs = cc.rows([c250, c1000])
    t = cc.table(rs).splitlines()
    assert '**+5.00**' in t[2] and '**+2.00**' in t[3] and rs[0]['data']=='CIFAR-10 (JPEG copy)'
    cc.plot(rs, tmp_path/'c.png')
    assert (tmp_path/'c.png').stat().st_size>1000
    # seeds in several files (an SGAN-only run and a baselines-only run of seed 1) join the seed-0 file of their label count
    def w1(name, **kinds):
        (tmp_path/name).write_text(json.dumps({**kinds, 'settings': dict(n_labeled=1000, epochs=12, split=False, seeds=[1], kinds=list(kinds))}))
        return tmp_path/name
    g1,b1 = w1('i.json', sgan=runs(0.61)), w1('j.json', labels=runs(0.55), labels_strong=runs(0.56))
    o = cc.rows([c1000, g1, b1])[0]
    assert o['sgan']==pytest.approx([57, 61]) and o['strong']==pytest.approx([54, 56]) and '**+4.00**' in cc.table([o])
    for bad in ([c1000, g1], [c1000, c1000], [g1]): # seed 1 without its baselines; a seed twice; no baselines at all
        with pytest.raises(SystemExit): cc.rows(bad)

def test_forks_runs():
    "`bench/forks.py` times each fork against fastai's own way and prints what it saves"
    r = subprocess.run([sys.executable, str(BENCH/'forks.py'), '--reps', '1', '--epochs', '1'], capture_output=True, text=True, timeout=300)
    assert r.returncode==0, r.stderr
    assert r.stdout.count('the fork saves')==2 and 'call_one' in r.stdout and 'smooth_loss' in r.stdout

# --- `bench/ops.py`: the discriminator's weights, computed once for the generator's steps
def _ops():
    spec = importlib.util.spec_from_file_location('ops', BENCH/'ops.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

@pytest.mark.parametrize('task', ['digits', 'mnist'])
def test_generator_steps_compute_the_disc_weights_once(task, monkeypatch):
    "With `fixed_wn_weights` the weight norm runs once for all generator steps instead of twice a step, with the same numbers"
    import contextlib, fastai_sgan.callback as cb
    from fastai.vision.all import set_seed
    from fastai_sgan.all import sgan_learner, wn_layers
    ops = _ops()
    def run():
        set_seed(0)
        learn = sgan_learner(ops.TASKS[task]())
        c = ops.count_ops(learn, batches=3)
        return c,learn
    (c1,l1) = run()
    monkeypatch.setattr(cb, 'fixed_wn_weights', lambda layers: contextlib.nullcontext()) # as before: computed in every pass
    (c0,l0) = run()
    n_wn,n_gen = len(wn_layers(l1.model.disc)),l1.sgan_trainer.n_gen
    assert c0.ops['_weight_norm_interface']-c1.ops['_weight_norm_interface']==c1.batches*n_wn*(2*n_gen-1)
    assert c1.per_batch<c0.per_batch
    for a,b in zip(l1.model.state_dict().values(), l0.model.state_dict().values()): assert torch.equal(a, b) # the same training
