"README.md is generated from nbs/index.ipynb and names the commands CI runs"
import subprocess, sys
from pathlib import Path
root = Path(__file__).resolve().parents[1]

def test_readme_matches_index():
    r = subprocess.run([sys.executable, str(root/'tools'/'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode==0, r.stderr

def test_ci_runs_readme_test_command():
    readme,ci = (root/'README.md').read_text(),(root/'.ci'/'run').read_text()
    assert 'bash tools/test.sh' in readme and 'bash tools/test.sh' in ci.splitlines()[-1]
    section = next(l for l in ci.splitlines() if l.startswith('# CI:')).split('"')[1] # the README section the comment names
    assert f'## {section}' in readme and 'bash tools/test.sh' in readme.split(f'## {section}')[1].split('\n## ')[0]

def test_versions_agree():
    "The fastai version the README states is the one pyproject.toml pins"
    import re
    lo,hi = re.search(r'"fastai>=([\d.]+),<([\d.]+)"', (root/'pyproject.toml').read_text()).groups()
    series = '.'.join(lo.split('.')[:2]) # the pin's minor series, below `hi`
    readme = (root/'README.md').read_text()
    assert hi>series and f'fastai {series} ({lo} or later)' in readme and 'fastai ≥' not in readme

def test_readme_short():
    "The README stays a front page: at most 12,000 characters"
    assert len((root/'README.md').read_text())<=12_000
