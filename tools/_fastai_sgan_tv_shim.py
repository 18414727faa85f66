"""Let PyPI's torchvision wheel (built against CUDA torch) import next to a CPU-only torch.

Installed into a virtual environment by `tools/torchvision_cpu.py` only when `import torchvision` fails there with
"operator torchvision::nms does not exist". When torchvision is first imported, it tries to load torchvision's C++ ops;
if they cannot load, it declares the two operator schemas that torchvision registers fake kernels for, so the import
completes. The C++ ops themselves (nms, roi_align, ...) stay unavailable and raise torchvision's own error if called;
fastai_sgan never calls them. Not part of the fastai_sgan package.
"""
import sys, importlib.abc, importlib.util

class _TorchvisionCPUHook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != 'torchvision': return None
        sys.meta_path.remove(self)
        import glob, os, torch
        spec = importlib.util.find_spec('torchvision')
        libs = glob.glob(os.path.join(os.path.dirname(spec.origin), '_C*.so'))
        try: torch.ops.load_library(libs[0])
        except (OSError, IndexError):
            global _lib
            _lib = torch.library.Library('torchvision', 'DEF')
            for op in ('nms', 'qnms'): _lib.define(f'{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
        return None

sys.meta_path.insert(0, _TorchvisionCPUHook())
