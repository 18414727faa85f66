"The automatic precision: measured on a CPU (bf16 a candidate only with its instructions), bf16 on GPUs that compute in it; faked both ways"
import json, warnings
import pytest, torch
import fastai_sgan.learner as fl
import fastai_sgan.precision as fp
from fastai_sgan.all import SemiSupervisedDataLoaders, sgan_learner, supervised_learner, auto_precision, bf16_is_fast, cpu_has_bf16

@pytest.fixture
def tiny_colour():
    g = torch.Generator().manual_seed(0)
    im = lambda n: torch.randint(0, 256, (n,3,16,16), generator=g, dtype=torch.uint8)
    return SemiSupervisedDataLoaders.from_tensors(im(64), torch.arange(64)%2, im(8), torch.arange(8)%2, n_labeled=8, bs=8, device='cpu')

def test_cpu_has_bf16_reads_torch():
    "`cpu_has_bf16` is torch's own check of the instructions (AVX-512 BF16 or AMX)"
    want = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert cpu_has_bf16()==want

def fake_times(monkeypatch, **secs):
    "Make `time_precisions` give these seconds (keys `fp32`, `fp32_cl`, `bf16`, `bf16_cl`); returns the candidates it is asked for"
    asked = []
    def f(net, x, cands):
        asked.append(list(cands))
        return {c:secs[c[0]+('_cl' if c[1] else '')] for c in cands}
    monkeypatch.setattr(fp, 'time_precisions', f)
    return asked

@pytest.mark.parametrize('fast', [True, False])
def test_auto_follows_cpu(monkeypatch, tiny_colour, fast):
    "With bf16 instructions bf16 is timed too, and wins where it is faster; without them only the memory format is timed"
    monkeypatch.setattr(fp, 'cpu_has_bf16', lambda: fast)
    asked = fake_times(monkeypatch, fp32=1., fp32_cl=0.8, bf16=0.7, bf16_cl=0.5)
    want = 'bf16' if fast else 'fp32'
    assert auto_precision('cpu')==want and bf16_is_fast(torch.device('cpu'))==fast
    learn = sgan_learner(tiny_colour, precision='auto')
    assert learn.precision==want and hasattr(learn, 'channels_last') # a conv discriminator: channels-last is faster here
    assert len(asked[-1])==(4 if fast else 2)
    assert supervised_learner(tiny_colour, precision='auto').precision==want

@pytest.mark.parametrize('cl,want', [(0.5,'fp32 cl'), (0.95,'fp32'), (1.5,'fp32')])
def test_fp32_memory_format_measured(monkeypatch, tiny_colour, cl, want):
    "In fp32 a conv discriminator trains channels-last only where that is at least a tenth faster"
    asked = fake_times(monkeypatch, fp32=1., fp32_cl=cl, bf16=0.1, bf16_cl=0.1)
    learn = sgan_learner(tiny_colour)
    assert (learn.precision + (' cl' if hasattr(learn, 'channels_last') else ''))==want
    assert asked==[[('fp32',False),('fp32',True)]] # fp32 asked for: bf16 is never timed
    assert not hasattr(learn.to_precision('fp32', channels_last=False), 'channels_last')
    assert len(asked)==1 # a fixed memory format: nothing to time

def test_slow_bf16_not_picked(monkeypatch, tiny_colour):
    "A CPU with bf16 instructions on which bf16 is slower (as some AVX-512 BF16 Xeons are): 'auto' stays fp32"
    monkeypatch.setattr(fp, 'cpu_has_bf16', lambda: True)
    fake_times(monkeypatch, fp32=1., fp32_cl=0.7, bf16=1.3, bf16_cl=0.9)
    learn = sgan_learner(tiny_colour, precision='auto')
    assert learn.precision=='fp32' and hasattr(learn, 'channels_last')

@pytest.mark.parametrize('fast', [True, False])
def test_gpu_not_timed(monkeypatch, tiny_colour, fast):
    "Off a CPU nothing is timed: 'auto' follows `auto_precision`, and conv discriminators go channels-last with bf16 only"
    learn = sgan_learner(tiny_colour)
    monkeypatch.setattr(fp, 'time_precisions', lambda *a: pytest.fail('timed'))
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda including_emulation=True: fast)
    monkeypatch.setattr(fl, '_dls_device', lambda dls: torch.device('cuda'))
    learn.to_precision('auto')
    assert (learn.precision, hasattr(learn, 'channels_last'))==(('bf16',True) if fast else ('fp32',False))

def test_one_candidate_not_timed(monkeypatch):
    "Nothing to choose between: nothing is timed"
    monkeypatch.setattr(fp, 'time_precisions', lambda *a: pytest.fail('timed'))
    assert fp.fastest_precision(torch.nn.Linear(2,2), torch.zeros(1,2), 'fp32')==('fp32', False)
    assert fp.fastest_precision(torch.nn.Conv2d(2,2,1), torch.zeros(1,2,3,3), 'fp32', channels_last=True)==('fp32', True)

@pytest.mark.parametrize('fast', [True, False])
def test_auto_follows_gpu(monkeypatch, fast):
    "On CUDA, torch's `is_bf16_supported` without emulation decides (Ampere and later)"
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda including_emulation=True: fast and not including_emulation)
    assert auto_precision('cuda')==('bf16' if fast else 'fp32') and auto_precision('cuda:1')==('bf16' if fast else 'fp32')
    assert auto_precision('mps')=='fp32' and auto_precision(torch.device('meta'))=='fp32'

def test_to_bf16_warns_once_where_slow(monkeypatch, tiny_colour):
    monkeypatch.setattr(fp, '_bf16_warned', False)
    monkeypatch.setattr(fp, 'cpu_has_bf16', lambda: True)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        sgan_learner(tiny_colour).to_bf16()
    assert not [w for w in ws if 'slower than fp32' in str(w.message)]
    monkeypatch.setattr(fp, 'cpu_has_bf16', lambda: False)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        for _ in range(3): sgan_learner(tiny_colour).to_bf16()
        sgan_learner(tiny_colour, precision='bf16')
    msgs = [str(w.message) for w in ws if 'slower than fp32' in str(w.message)]
    assert len(msgs)==1 and 'AVX-512 BF16 or AMX' in msgs[0] and "to_precision('auto')" in msgs[0]
    with warnings.catch_warnings(record=True) as ws: # `auto` never picks the slow bf16, so it never warns
        warnings.simplefilter('always')
        monkeypatch.setattr(fp, '_bf16_warned', False)
        fake_times(monkeypatch, fp32=1., fp32_cl=0.8, bf16=0.1, bf16_cl=0.1) # (bf16 is no candidate without the instructions)
        assert sgan_learner(tiny_colour, precision='auto').precision=='fp32'
    assert not [w for w in ws if 'slower than fp32' in str(w.message)]

def test_bad_precision(tiny_colour):
    with pytest.raises(ValueError, match="use 'auto', 'bf16', 'fp16' or 'fp32'"): sgan_learner(tiny_colour, precision='half')

def test_times_kept_on_the_machine(monkeypatch, tmp_path):
    "The measurements go to `FASTAI_HOME`'s `sgan_precision.json`, and a new process reads them instead of timing again"
    monkeypatch.setenv('FASTAI_HOME', str(tmp_path))
    monkeypatch.setattr(fp, '_times', {})
    net, x = torch.nn.Sequential(torch.nn.Conv2d(3,4,3), torch.nn.Flatten()), torch.rand(4,3,8,8)
    cands = [('fp32',False),('fp32',True)]
    ts = fp.time_precisions(net, x, cands)
    f = fp.precision_times_file()
    assert f==tmp_path/'sgan_precision.json' and len(json.loads(f.read_text()))==2
    monkeypatch.setattr(fp, '_times', {}) # as a new process
    assert fp.time_precisions(net, x, cands)==ts # read, not timed again (two timings would differ)
    (tmp_path/'a_file').write_text('')
    monkeypatch.setenv('FASTAI_HOME', str(tmp_path/'a_file'/'sub')) # a folder that cannot be made, even by root
    monkeypatch.setattr(fp, '_times', {})
    assert set(fp.time_precisions(net, x, cands))==set(cands) # a folder that can't be written: measured all the same

def test_timing_moves_no_random_state(tiny_colour, monkeypatch, tmp_path):
    "Timing at learner creation draws a batch, but leaves every random number generator (the loaders' too) where it was"
    monkeypatch.setenv('FASTAI_HOME', str(tmp_path))
    monkeypatch.setattr(fp, '_times', {})
    states = lambda: ([dl.rng.getstate() for dl in tiny_colour.loaders], torch.get_rng_state())
    learn = sgan_learner(tiny_colour)
    before = states()
    learn.to_precision('fp32', channels_last=None)
    monkeypatch.setattr(fp, '_times', {})
    learn.to_precision('fp32', channels_last=None) # timed again
    after = states()
    assert before[0]==after[0] and torch.equal(before[1], after[1])
