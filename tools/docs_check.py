"""Check the docs here, without Quarto: process the notebooks as `nbdev-docs` does (`nbdev.serve.proc_nbs`), then
render each processed notebook to HTML with nbconvert. Exits 1 (listing the pages) if any page fails.

    .venv/bin/python tools/docs_check.py              # writes _docs_html/<page>.html
    .venv/bin/python tools/docs_check.py --execute    # run the notebooks first, so the pages show their outputs

Users build the real site with `nbdev-docs` (Quarto).
"""
import argparse, sys, shutil
from fnmatch import fnmatch
from pathlib import Path

_CELL_KEYS = {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments'}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='_docs_html')
    p.add_argument('--execute', action='store_true', help='execute each notebook before rendering (slow)')
    p.add_argument('--only', default=None, help='render only the pages matching this glob, e.g. "tutorials/*"')
    a = p.parse_args(argv)
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor
    from nbdev.serve import proc_nbs
    from nbdev.config import get_config
    cfg = get_config()
    flags = str(cfg.get('tst_flags', '')).split()
    proc_nbs(n_workers=0, force=True)
    proc = cfg.config_path/'_proc'
    out = cfg.config_path/a.out
    shutil.rmtree(out, ignore_errors=True)
    nbs = sorted(f for f in proc.rglob('*.ipynb') if not any(x.startswith(('.','_')) for x in f.relative_to(proc).parts))
    if a.only: nbs = [f for f in nbs if fnmatch(f.relative_to(proc).as_posix(), a.only)]
    exporter,bad = HTMLExporter(),[]
    for f in nbs:
        rel = f.relative_to(proc)
        try:
            nb = nbformat.read(f, as_version=4)
            for c in nb.cells: # nbdev's processing leaves its own keys on cells, which nbformat's schema rejects
                for k in [k for k in c if k not in _CELL_KEYS]: c.pop(k)
                c.metadata.pop('execution', None)
            if a.execute:
                src = cfg.config_path/cfg.nbs_path/rel
                nb = nbformat.read(src, as_version=4) # the source keeps the `#|` flags that processing strips
                for c in nb.cells: # cells flagged as nbdev-test skips them (downloads, GPU, long runs) stay unexecuted
                    if c.cell_type=='code' and any(f'#| {fl}' in c.source for fl in flags):
                        c.metadata.setdefault('tags', []).append('skip-execution')
                ExecutePreprocessor(timeout=1800).preprocess(nb, {'metadata': {'path': str(src.parent)}})
            html,_ = exporter.from_notebook_node(nb)
            if not nb.cells: raise ValueError('no cells')
            dst = (out/rel).with_suffix('.html')
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(html)
            print(f"ok   {rel} -> {dst.relative_to(cfg.config_path)}")
        except Exception as e:
            bad.append(rel)
            print(f"FAIL {rel}: {type(e).__name__}: {str(e)[:500]}")
    print(f"{len(nbs)-len(bad)} of {len(nbs)} pages rendered")
    if bad or not nbs: sys.exit(1)

if __name__=='__main__': main()
