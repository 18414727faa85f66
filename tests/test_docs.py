"The docs build here without Quarto: every notebook processed by nbdev (`proc_nbs`) and rendered to HTML by nbconvert"
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_docs_render(tmp_path):
    r = subprocess.run([sys.executable, 'tools/docs_check.py', '--out', '_docs_html_test'], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode==0, r.stdout[-3000:]+r.stderr[-3000:]
    out = ROOT/'_docs_html_test'
    pages = {p.relative_to(out).as_posix() for p in out.rglob('*.html')}
    nbs = {p.relative_to(ROOT/'nbs').with_suffix('.html').as_posix() for p in (ROOT/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts}
    assert pages==nbs
    assert 'SemiSupervisedDataLoaders' in (out/'index.html').read_text()
    assert 'MNIST with 100 labels' in (out/'tutorials'/'mnist_100.html').read_text()
