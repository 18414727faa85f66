"""Run notebooks and save their outputs in them (figures as PNG), as the docs and GitHub show them:
`python tools/run_nb.py [--slow] nbs/index.ipynb ...`. Cells flagged `#| eval: false`, `#| cuda` or `#| download` are
not run and keep the outputs they have; `#| slow` cells too, unless `--slow` (run them once here, so their results
show, while `nbdev-test` skips them). Each notebook runs in its own folder, as `nbdev-test` runs it."""
import os, re, sys, time
from pathlib import Path
from fastcore.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

# fastprogress draws console bars outside Jupyter; its notebook bars leave the HTML table of the epochs, as in Jupyter
_INJECT = """
import fastprogress.fastprogress as _fp, fastai.callback.progress as _pr
_fp.IN_NOTEBOOK = True
_pr.master_bar,_pr.progress_bar = _fp.NBMasterBar,_fp.NBProgressBar
"""

def _skip(cell, flags)->bool:
    "Whether `cell` carries one of the directives `flags`"
    return cell.cell_type=='code' and any(re.search(rf'^#\|\s*{f}\s*$', cell.source, re.M) for f in flags)

def _noise(o)->bool:
    "Whether the output `o` is one of fastprogress's intermediate displays (every redraw is kept here) or a warning"
    html = ''.join(o.get('data', {}).get('text/html', ''))
    if '<progress' in html or html.lstrip().startswith('<style'): return True
    if 'text/html' in o.get('data', {}) and not html.strip(): return True # a bar that cleared itself (`leave=False`)
    return o.get('name')=='stderr' and 'Warning' in ''.join(o.get('text', ''))

def _as_shown(text:str)->str:
    "Stream text as a terminal shows it: each line from its last carriage return on (progress bars redraw with `\\r`)"
    return '\n'.join(l.rstrip('\r').split('\r')[-1].rstrip() for l in text.replace('\r\n', '\n').split('\n'))

def run(fn:Path, slow:bool=False):
    nb = read_nb(fn)
    flags = ['eval: false', 'cuda', 'download'] + ([] if slow else ['slow'])
    sh = CaptureShell(mpl_format='png')
    cwd = os.getcwd()
    os.chdir(fn.parent)
    start = time.perf_counter()
    try:
        sh.run(_INJECT)
        sh.run_all(nb, exc_stop=True, preproc=lambda c: _skip(c, flags))
    finally: os.chdir(cwd)
    for c in nb.cells:
        if c.cell_type!='code': continue
        c['execution_count'] = None
        c.metadata.pop('execution', None)
        c.outputs = [o for o in c.outputs if not _noise(o)]
        for o in c.outputs:
            if o.get('output_type')=='stream': o['text'] = _as_shown(''.join(o['text']))
    write_nb(nb, fn)
    print(f"{fn}: run in {time.perf_counter()-start:.0f} s", flush=True)

if __name__=='__main__':
    os.environ.setdefault('MPLBACKEND', 'Agg')
    args = sys.argv[1:]
    slow = '--slow' in args
    for f in args:
        if f!='--slow': run(Path(f).resolve(), slow)
