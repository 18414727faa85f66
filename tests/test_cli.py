"`sgan-train` (`python -m fastai_sgan`) and `sgan-demo` end to end, in subprocesses"
import json, subprocess, sys
from pathlib import Path
import pandas as pd, pytest, torch
from PIL import Image
from conftest import MNIST

def run(*args, mod='fastai_sgan'):
    return subprocess.run([sys.executable, '-m', mod, *args], capture_output=True, text=True, timeout=600)

def script(name, *args):
    "Run the console script `name` installed next to this Python"
    return subprocess.run([str(Path(sys.executable).parent/name), *args], capture_output=True, text=True, timeout=300)

def demo(*args): return script('sgan-demo', *args)

def test_train_digits(tmp_path):
    out = tmp_path/'run'
    r = run('--epochs', '4', '--out', str(out))
    assert r.returncode==0, r.stderr
    assert 'SGAN' in r.stdout and 'supervised only' in r.stdout and 'gain' in r.stdout
    assert '\r' not in r.stdout and '\r' not in r.stderr # not a terminal: one line per epoch, no progress-bar redraws
    lines = r.stdout.splitlines()
    heads = [i for i,l in enumerate(lines) if l.split()[:3]==['epoch','train_loss','valid_loss']]
    assert len(heads)==2 and all(lines[h+1+e].split()[0]==str(e) for h in heads for e in range(4)), r.stdout
    assert sorted(o.name for o in out.iterdir())==['history.csv','history.png','results.json','samples','sgan.pkl','sgan_weights.pth']
    res = json.loads((out/'results.json').read_text())
    assert res['dataset']=='digits' and res['n_labeled']==50 and res['epochs']==4 and res['n_test']==500
    assert res['lr']==pytest.approx(1e-2) # `default_lr` of grey images up to 28×28 with the MLP
    assert res['n_gen']==1 # `default_n_gen` of 8×8 images
    assert res['sgan']['accuracy']>0.5 and res['supervised']['accuracy']>0.2  # chance is 0.1
    assert res['gain']==pytest.approx(res['sgan']['accuracy']-res['supervised']['accuracy'])
    hist = pd.read_csv(out/'history.csv')
    assert list(hist.columns)==['epoch','train_loss','valid_loss','accuracy','loss_lab','loss_unl','loss_gen','acc_lab','time']
    assert len(hist)==4 and hist['accuracy'].iloc[-1]==pytest.approx(res['sgan']['accuracy'], abs=1e-5)
    grids = sorted((out/'samples').iterdir())
    assert [g.name for g in grids]==[f'epoch_{i:03d}.png' for i in range(4)]
    assert Image.open(grids[0]).size==(102, 102)  # 10×10 images of 8×8 with 2-pixel borders
    assert Image.open(out/'history.png').size[0]>500

def test_train_folder_csv_no_baseline(mnist_folder, tmp_path):
    "A CSV of file names with missing labels, 28×28 grey PNGs (the default MLPs), no baseline"
    rows = []
    for split in ('training','testing'):
        for f in sorted((mnist_folder/split).rglob('*.png')):
            lab = f.parent.name
            if split=='training' and int(f.stem)%4: lab = ''  # hide most training labels
            rows.append(dict(fname=str(f.relative_to(mnist_folder)), label=lab, is_valid=split=='testing'))
    csv = mnist_folder/'labels.csv'
    pd.DataFrame(rows).to_csv(csv, index=False)
    out = tmp_path/'csv'
    r = run('--dataset', 'folder', '--data', str(csv), '--epochs', '1', '--bs', '16', '--no-baseline', '--out', str(out))
    assert r.returncode==0, r.stderr
    res = json.loads((out/'results.json').read_text())
    assert 'supervised' not in res and res['n_test']==50 and res['image_shape']==[1,28,28]
    assert res['lr']==pytest.approx(1e-2) # `default_lr` of 28×28 grey images with the MLP
    assert res['n_gen']==2 # `default_n_gen` of 28×28 grey images with the MLP
    assert 0<res['n_labeled']<200

def test_train_folder(mnist_folder, tmp_path):
    "fastai's MNIST layout (training/ and testing/ with class folders), 50 of the 200 labels kept"
    out = tmp_path/'folder'
    r = run('--dataset', 'folder', '--data', str(mnist_folder), '--n-labeled', '50', '--epochs', '1', '--bs', '16',
            '--no-baseline', '--out', str(out))
    assert r.returncode==0, r.stderr
    res = json.loads((out/'results.json').read_text())
    assert res['n_labeled']==50 and res['n_train']==200 and res['n_test']==50

def test_train_folder_size(mnist_folder, tmp_path):
    "`--size 32`: the 28×28 PNGs resized once, when read, and kept in memory; the exported classifier resizes files too"
    out = tmp_path/'size'
    r = run('--dataset', 'folder', '--data', str(mnist_folder), '--size', '32', '--epochs', '1', '--bs', '16',
            '--no-baseline', '--out', str(out))
    assert r.returncode==0, r.stderr
    from fastai.learner import load_learner
    learn = load_learner(out/'sgan.pkl')
    assert learn.dls.valid_ds.x.shape[1:]==(1,32,32) and learn.dls.valid_ds.read_tfms is not None
    fn = next((mnist_folder/'testing'/'3').glob('*.png'))
    assert learn.predict(fn)[0] in learn.dls.vocab

def test_train_folder_photos(tmp_path):
    "Colour JPEGs of mixed sizes, no valid/ folder: the errors name the CLI's options, then --valid-pct and --size train"
    import numpy as np
    rng = np.random.default_rng(0)
    for c in ('cat','dog'):
        for i in range(12):
            d = tmp_path/'photos'/'train'/(c if i<4 else 'unlabeled'); d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (20+i, 24+i%3, 3), dtype=np.uint8)).save(d/f'{c}{i}.jpg')
    data,out = str(tmp_path/'photos'),tmp_path/'out'
    r = run('--dataset', 'folder', '--data', data, '--epochs', '1', '--out', str(out))
    assert r.returncode==2 and '--valid-pct' in r.stderr and not out.exists(), r.stderr
    r = run('--dataset', 'folder', '--data', data, '--valid-pct', '0.25', '--epochs', '1', '--out', str(out))
    assert r.returncode==2 and 'differ in size' in r.stderr and '--size N' in r.stderr and 'item_tfms' not in r.stderr, r.stderr
    r = run('--dataset', 'folder', '--data', data, '--valid-pct', '0.25', '--size', '16', '--bs', '8', '--epochs', '1',
            '--no-baseline', '--out', str(out))
    assert r.returncode==0, r.stderr
    res = json.loads((out/'results.json').read_text())
    assert res['classes']==['cat','dog'] and res['n_test']==2 and res['n_labeled']==6 and res['image_shape']==[3,16,16]

def test_train_folder_unreadable(tmp_path):
    "A file that is not an image and a JPEG cut off halfway: one error naming both, for a folder (with and without --size) and a CSV"
    import numpy as np
    rng = np.random.default_rng(0)
    root = tmp_path/'photos'
    for split,n in (('train',6), ('valid',2)):
        for c in ('cat','dog'):
            (root/split/c).mkdir(parents=True)
            for i in range(n): Image.fromarray(rng.integers(0, 256, (16,16,3), dtype=np.uint8)).save(root/split/c/f'{i}.jpg')
    (root/'train'/'cat'/'readme.jpg').write_text('not a photo')
    jpeg = (root/'train'/'dog'/'0.jpg').read_bytes()
    (root/'valid'/'dog'/'cut.jpg').write_bytes(jpeg[:len(jpeg)//2])
    files = sorted(root.rglob('*.jpg'))
    pd.DataFrame(dict(fname=[str(f.relative_to(root)) for f in files], label=[f.parent.name for f in files],
                      is_valid=[f.parts[-3]=='valid' for f in files])).to_csv(root/'labels.csv', index=False)
    out = tmp_path/'out'
    for extra in ([], ['--size', '16'], ['--data', str(root/'labels.csv')]):
        args = ['--dataset', 'folder', *(extra if '--data' in extra else ['--data', str(root), *extra]), '--epochs', '1', '--out', str(out)]
        r = run(*args)
        assert r.returncode==2 and 'Traceback' not in r.stderr, r.stderr
        assert '2 image files cannot be read' in r.stderr and 'readme.jpg: not an image' in r.stderr and 'cut.jpg: cut off' in r.stderr, r.stderr
        assert 'verify_images' in r.stderr and not out.exists(), r.stderr

@pytest.mark.parametrize('args,msg', [
    (('--dataset','svhn'), 'unknown dataset'),
    (('--dataset','folder'), 'needs --data'),
    (('--dataset','mnist','--data','/nonexistent'), 'does not exist'),
    (('--n-labeled','7'), 'smaller than the number of classes'),
    (('--n-labeled','5000'), 'n_labeled'),
    (('--fake','both'), '--fake'),
    (('--arch','resnet1000'), 'unknown --arch'),
    (('--precision','fp8'), '--precision'),
    (('--epochs','0'), '--epochs'),
    (('--lr','-1'), '--lr'),
    (('--device','cuda:7'), '--device'),
    (('--bs','100000'), 'bs='),
    (('--zoom','0.1'), 'mnist only'),
    (('--dataset','mnist','--zoom','1.5'), 'zoom=1.5'),
    (('--dataset','mnist','--shift','-1'), 'shift=-1'),
    (('--valid-pct','0.2'), '--valid-pct applies to --dataset folder only'),
])
def test_train_bad_args(tmp_path, capsys, args, msg):
    "In-process (a subprocess per case is slow): exit status 2, one line on stderr, nothing written"
    from fastai_sgan.cli import sgan_train
    out = tmp_path/'bad'
    kw = {a[2:].replace('-','_'): v for a,v in zip(args[::2], args[1::2])}
    kw = {k: (v if k in ('dataset','data','fake','arch','precision','device') else float(v) if k in ('lr','zoom','max_rotate','valid_pct') else int(v)) for k,v in kw.items()}
    with pytest.raises(SystemExit) as e: sgan_train(out=str(out), **kw)
    err = capsys.readouterr().err
    assert e.value.code==2 and msg in err, (args, err)
    assert len(err.strip().splitlines())==1
    assert not out.exists()

@pytest.mark.parametrize('args,aug', [((), ['Rotate','RandomShift']), (('--max-rotate','0','--zoom','0'), ['RandomShift']),
                                      (('--shift','0','--max-rotate','0','--zoom','0'), [])])
def test_train_mnist_augmentation(mnist_folder, tmp_path, args, aug):
    "`--dataset mnist` on fastai's MNIST layout; `--shift`, `--max-rotate` and `--zoom` choose the training transforms"
    out = tmp_path/'mnist'
    r = run('--dataset', 'mnist', '--data', str(mnist_folder), '--n-labeled', '50', '--epochs', '1', '--bs', '16',
            '--no-baseline', '--out', str(out), *args)
    assert r.returncode==0, r.stderr
    res = json.loads((out/'results.json').read_text())
    assert res['dataset']=='mnist' and res['n_labeled']==50 and res['n_train']==200 and res['augmentation']==aug

def test_train_bad_args_subprocess(tmp_path):
    out = tmp_path/'bad'
    r = run('--dataset', 'svhn', '--out', str(out))
    assert r.returncode==2 and r.stderr.strip()=="error: unknown dataset 'svhn': use digits, mnist, cifar10 or folder." and not out.exists()

def test_help():
    "The console script's help (`python -m fastai_sgan` runs in `test_train_bad_args_subprocess`)"
    r = script('sgan-train', '--help')
    assert r.returncode==0 and '--n-labeled' in r.stdout and '--precision' in r.stdout and '--no-baseline' in r.stdout

def test_demo_digits():
    r = demo()
    assert r.returncode==0, r.stderr
    assert 'labeled subset : 50, per class [5, 5, 5, 5, 5, 5, 5, 5, 5, 5]' in r.stdout
    assert '32 unlabeled (y=-1) + 32 labeled' in r.stdout

def test_demo_mnist(capsys):
    "In-process (the console script runs in `test_demo_digits` and `test_demo_bad_args_subprocess`)"
    from fastai_sgan.cli import sgan_demo
    sgan_demo(dataset='mnist', data=str(MNIST), n_labeled=100)
    out = capsys.readouterr().out
    assert 'per class [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]' in out and '60000' in out

@pytest.mark.parametrize('kw,msg', [(dict(dataset='mnist'), 'needs --data'), (dict(n_labeled=7), 'smaller than the number of classes'),
                                    (dict(dataset='mnist', data='/nonexistent'), 'does not exist')])
def test_demo_bad_args(capsys, kw, msg):
    "In-process: exit status 2 and one line on stderr"
    from fastai_sgan.cli import sgan_demo
    with pytest.raises(SystemExit) as e: sgan_demo(**kw)
    err = capsys.readouterr().err
    assert e.value.code==2 and msg in err and len(err.strip().splitlines())==1, (kw, err)

def test_demo_bad_args_subprocess():
    r = demo('--dataset', 'svhn')
    assert r.returncode==2 and 'unknown dataset' in r.stderr, r.stderr

@pytest.mark.parametrize('fast', [True, False])
def test_train_precision_auto(tmp_path, capsys, monkeypatch, fast):
    "`--precision auto` (the default) takes bf16 where the CPU has the instructions and it measures faster (faked both ways); results.json records the choice"
    import fastai_sgan.precision as fp
    from fastai_sgan.cli import sgan_train
    monkeypatch.setattr(fp, 'cpu_has_bf16', lambda: fast)
    monkeypatch.setattr(fp, 'time_precisions', lambda net, x, cands: {c:0.5 if c[0]=='bf16' else 1. for c in cands})
    monkeypatch.setattr(fp, '_bf16_warned', False)
    res = sgan_train(epochs=1, no_baseline=True, device='cpu', out=str(tmp_path/'run'))
    want = 'bf16' if fast else 'fp32'
    assert res['precision']==want and json.loads((tmp_path/'run'/'results.json').read_text())['precision']==want
    assert f"precision {want} (auto: " in capsys.readouterr().out

def test_train_default_epochs(tmp_path, capsys, monkeypatch):
    "Without --epochs a small folder trains for at least `MIN_STEPS` batches, and the count is printed"
    import numpy as np
    import fastai_sgan.cli as cli
    rng = np.random.default_rng(0)
    for c in ('a','b'):
        for i in range(10):
            d = tmp_path/'f'/('train' if i<6 else 'valid')/(c if i<3 or i>=6 else 'unlabeled'); d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(d/f'{c}{i}.png')
    monkeypatch.setattr(cli, 'MIN_STEPS', 24) # 12 unlabeled images in batches of 4: 3 batches an epoch, so 10 epochs are 30 steps
    res = cli.sgan_train(dataset='folder', data=str(tmp_path/'f'), bs=4, no_baseline=True, precision='fp32', out=str(tmp_path/'o1'))
    assert res['epochs']==10 and '10 epochs (the default for 3 batches an epoch: at least 24 steps' in capsys.readouterr().out
    monkeypatch.setattr(cli, 'MIN_STEPS', 40) # more than 10 epochs make: 14 epochs of 3 batches
    res = cli.sgan_train(dataset='folder', data=str(tmp_path/'f'), bs=4, no_baseline=True, precision='fp32', out=str(tmp_path/'o2'))
    assert res['epochs']==14 and '14 epochs (the default' in capsys.readouterr().out
    res = cli.sgan_train(dataset='folder', data=str(tmp_path/'f'), bs=4, epochs=2, no_baseline=True, precision='fp32', out=str(tmp_path/'o3'))
    assert res['epochs']==2 and '2 epochs (given' in capsys.readouterr().out

def test_train_capture(tmp_path, capsys, monkeypatch):
    "`--capture` trains with the captured step, in fp32 when --precision is auto, and results.json records it"
    import warnings
    import fastai_sgan.learner as fl
    from fastai_sgan.cli import sgan_train
    class Quick(fl.CapturedStep): # 'aot_eager' traces as inductor does and compiles in seconds
        def __init__(self, mode='auto', backend=None): super().__init__(mode, 'aot_eager')
    monkeypatch.setattr(fl, 'CapturedStep', Quick)
    torch._dynamo.reset()
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning) # the step did not fall back to eager
        res = sgan_train(epochs=1, no_baseline=True, device='cpu', capture=True, out=str(tmp_path/'run'))
    assert res['capture'] and res['precision']=='fp32' and res['sgan']['accuracy']>0.1
    assert 'precision fp32, captured step' in capsys.readouterr().out
