"""Write the files `test_compat.py` loads, with fastai_sgan 0.1.0 (run from a checkout of 0.1.0, `fb486c6`):

    PYTHONPATH=/path/to/0.1.0 python tests/data/make_v010.py tests/data
"""
import sys, torch
from pathlib import Path
from fastai.vision.all import *
from fastai_sgan.all import *

def make(out):
    out = Path(out)
    set_seed(0)
    dls = SemiSupervisedDataLoaders.from_digits(n_labeled=20, n_valid=100, bs=16, bs_labeled=16)
    learners = dict( # the weight-normed layers of both kinds: linear, conv (dim 0) and transposed conv (dim 1)
        mlp=sgan_learner(dls, discriminator=mlp_discriminator(64, sizes=(32,16)), generator=mlp_generator((1,8,8), nz=8, sizes=(16,))),
        conv=sgan_learner(dls, discriminator=conv_discriminator(1, size=8, widths=(8,)), generator=conv_generator((1,8,8), nz=8, nf=8)))
    x = dls.valid.one_batch()[0][:8].cpu().as_subclass(torch.Tensor)
    for name,learn in learners.items():
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)
        learn.save(out.absolute()/f'v010_{name}', with_opt=True)
        save_classifier(learn, out/f'v010_{name}_classifier.pth')
        learn.model.eval()
        with torch.no_grad(): preds = learn.model(x.to(dls.device)).cpu().as_subclass(torch.Tensor)
        torch.save(dict(x=x, preds=preds, gen=[n for n,_ in learn.model.generator.named_parameters()]), out/f'v010_{name}_preds.pt')

if __name__=='__main__': make(sys.argv[1])
