"The automatic precision: bf16 where the device computes in bf16, fp32 elsewhere; detection faked both ways"
import warnings
import pytest, torch
import fastai_sgan.learner as fl
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

@pytest.mark.parametrize('fast', [True, False])
def test_auto_follows_cpu(monkeypatch, tiny_colour, fast):
    monkeypatch.setattr(fl, 'cpu_has_bf16', lambda: fast)
    want = 'bf16' if fast else 'fp32'
    assert auto_precision('cpu')==want and bf16_is_fast(torch.device('cpu'))==fast
    learn = sgan_learner(tiny_colour, precision='auto')
    assert learn.precision==want and hasattr(learn, 'channels_last')==fast # a conv discriminator: channels-last with bf16
    assert supervised_learner(tiny_colour, precision='auto').precision==want

@pytest.mark.parametrize('fast', [True, False])
def test_auto_follows_gpu(monkeypatch, fast):
    "On CUDA, torch's `is_bf16_supported` without emulation decides (Ampere and later)"
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda including_emulation=True: fast and not including_emulation)
    assert auto_precision('cuda')==('bf16' if fast else 'fp32') and auto_precision('cuda:1')==('bf16' if fast else 'fp32')
    assert auto_precision('mps')=='fp32' and auto_precision(torch.device('meta'))=='fp32'

def test_to_bf16_warns_once_where_slow(monkeypatch, tiny_colour):
    monkeypatch.setattr(fl, '_bf16_warned', False)
    monkeypatch.setattr(fl, 'cpu_has_bf16', lambda: True)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        sgan_learner(tiny_colour).to_bf16()
    assert not [w for w in ws if 'slower than fp32' in str(w.message)]
    monkeypatch.setattr(fl, 'cpu_has_bf16', lambda: False)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        for _ in range(3): sgan_learner(tiny_colour).to_bf16()
        sgan_learner(tiny_colour, precision='bf16')
    msgs = [str(w.message) for w in ws if 'slower than fp32' in str(w.message)]
    assert len(msgs)==1 and 'AVX-512 BF16 or AMX' in msgs[0] and "to_precision('auto')" in msgs[0]
    with warnings.catch_warnings(record=True) as ws: # `auto` never picks the slow bf16, so it never warns
        warnings.simplefilter('always')
        monkeypatch.setattr(fl, '_bf16_warned', False)
        assert sgan_learner(tiny_colour, precision='auto').precision=='fp32'
    assert not [w for w in ws if 'slower than fp32' in str(w.message)]

def test_bad_precision(tiny_colour):
    with pytest.raises(ValueError, match="use 'auto', 'bf16', 'fp16' or 'fp32'"): sgan_learner(tiny_colour, precision='half')
