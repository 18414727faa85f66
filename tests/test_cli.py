"`python -m fastai_sgan` end to end, in a subprocess"
import subprocess, sys
from conftest import MNIST

def run(*args):
    return subprocess.run([sys.executable, '-m', 'fastai_sgan', *args], capture_output=True, text=True, timeout=300)

def test_demo_digits():
    r = run()
    assert r.returncode==0, r.stderr
    assert 'labeled subset : 50, per class [5, 5, 5, 5, 5, 5, 5, 5, 5, 5]' in r.stdout
    assert '32 unlabeled (y=-1) + 32 labeled' in r.stdout

def test_demo_mnist():
    r = run('--dataset', 'mnist', '--data', str(MNIST), '--n-labeled', '100')
    assert r.returncode==0, r.stderr
    assert 'per class [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]' in r.stdout and '60000' in r.stdout

def test_help():
    r = run('--help')
    assert r.returncode==0 and '--n-labeled' in r.stdout

def test_bad_args():
    for args,msg in ((('--dataset','svhn'), 'unknown dataset'), (('--dataset','mnist'), 'needs --data'),
                     (('--n-labeled','7'), 'smaller than the number of classes'),
                     (('--dataset','mnist','--data','/nonexistent'), 'does not exist')):
        r = run(*args)
        assert r.returncode==2 and msg in r.stderr, (args, r.stderr)
