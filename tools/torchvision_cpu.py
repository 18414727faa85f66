"Make `import torchvision` work in this environment when its wheel was built for a CUDA torch (CPU machines only)."
import subprocess, sys, sysconfig, shutil
from pathlib import Path

def imports():
    r = subprocess.run([sys.executable, '-c', 'import torchvision'], capture_output=True, text=True)
    return r.returncode == 0, r.stderr

if __name__ == '__main__':
    ok, err = imports()
    if ok: sys.exit(0)
    if 'torchvision::nms does not exist' not in err: sys.exit(f'torchvision does not import:\n{err}')
    site = Path(sysconfig.get_paths()['purelib'])
    shutil.copy(Path(__file__).with_name('_fastai_sgan_tv_shim.py'), site)
    (site/'_fastai_sgan_tv_shim.pth').write_text('import _fastai_sgan_tv_shim\n')
    ok, err = imports()
    if not ok: sys.exit(f'torchvision still does not import:\n{err}')
    print('torchvision: C++ ops unavailable with this CPU torch; import shim installed in', site)
