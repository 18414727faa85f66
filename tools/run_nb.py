"""Run notebooks and save their outputs in them (figures as PNG), as the docs and GitHub show them:
`python tools/run_nb.py nbs/index.ipynb ...`. Cells flagged `#| eval: false` are skipped; the outputs of the others
are replaced. Run from the `nbs/` folder's parent; each notebook runs in its own folder, as `nbdev-test` runs it."""
import os, sys, time
from pathlib import Path
from fastcore.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

# fastprogress draws console bars outside Jupyter; its notebook bars leave the HTML table of the epochs, as in Jupyter
_INJECT = """
import fastprogress.fastprogress as _fp, fastai.callback.progress as _pr
_fp.IN_NOTEBOOK = True
_pr.master_bar,_pr.progress_bar = _fp.NBMasterBar,_fp.NBProgressBar
"""

def _bar(o)->bool:
    "Whether the output `o` is one of fastprogress's intermediate displays (every redraw is kept as an output here)"
    html = ''.join(o.get('data', {}).get('text/html', ''))
    return '<progress' in html or html.lstrip().startswith('<style')

def run(fn:Path):
    nb = read_nb(fn)
    sh = CaptureShell(mpl_format='png')
    cwd = os.getcwd()
    os.chdir(fn.parent)
    try:
        start = time.perf_counter()
        sh.run(_INJECT)
        sh.run_all(nb, exc_stop=True, preproc=lambda c: '#| eval: false' in c.source)
    finally: os.chdir(cwd)
    for c in nb.cells:
        if c.cell_type!='code': continue
        c['execution_count'] = None
        c.metadata.pop('execution', None)
        c.outputs = [o for o in c.outputs if not _bar(o)]
    write_nb(nb, fn)
    print(f"{fn}: run in {time.perf_counter()-start:.0f} s")

if __name__=='__main__':
    os.environ.setdefault('MPLBACKEND', 'Agg')
    for f in sys.argv[1:]: run(Path(f).resolve())
