"`from fastai_sgan.all import *` gives fastai's vision API and every public name of fastai_sgan, as `fastai.vision.all` does"
# Written by hand (not exported from a notebook), like fastai's own `all` modules: a module without `__all__`,
# so `import *` takes every public name imported here. A test checks that every module's names arrive.
from fastai.vision.all import *
from .masking import *
from .tensors import *
from .data import *
from .augment import *
from .datasets import *
from .models import *
from .losses import *
from .precision import *
from .callback import *
from .learner import *
from .report import *
from .cli import *
