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
