"""Write README.md from nbs/index.ipynb (nbconvert to markdown, with the notebook's outputs), as `nbdev-readme` would
without Quarto; its figures go to `images/readme/`. The index's relative links (`tutorials/own_data.ipynb`), which the
docs site resolves to its pages, point into `nbs/` from the README, so they work on a code host too. `--check` only
compares."""
import re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parents[1]
IMG = 'images/readme'

def _from_root(m)->str:
    "A markdown link relative to `nbs/` made relative to the repository's root"
    target = m.group(1)
    return f'](nbs/{target})' if (root/'nbs'/target.split('#')[0]).exists() else m.group(0)

def readme()->tuple:
    "The README's text and its figures `{path: bytes}`"
    nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
    nb.metadata['language_info'] = {'name': 'python'}
    # as nbdev does: `#| hide` cells left out, the other directives (`#| slow`...) taken off the code shown
    nb.cells = [c for c in nb.cells if not (c.cell_type=='code' and '#| hide' in c.source)]
    for c in nb.cells:
        if c.cell_type=='code': c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|'))
    body,res = MarkdownExporter().from_notebook_node(nb, resources=dict(output_files_dir=IMG))
    body = re.sub(r'\]\((?!https?:|#|/)([^)\s]+)\)', _from_root, body)
    head = '<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file. -->\n\n'
    return head + body.strip() + '\n', res.get('outputs', {})

if __name__=='__main__':
    txt,figs = readme()
    dst = root/'README.md'
    if '--check' in sys.argv:
        if dst.read_text()!=txt: sys.exit('README.md differs from nbs/index.ipynb: run `python tools/readme.py`.')
        for f,b in figs.items():
            if not (root/f).exists() or (root/f).read_bytes()!=b: sys.exit(f'{f} differs from nbs/index.ipynb: run `python tools/readme.py`.')
    else:
        for old in (root/IMG).glob('*.png'): old.unlink()
        for f,b in figs.items(): (root/f).parent.mkdir(parents=True, exist_ok=True); (root/f).write_bytes(b)
        dst.write_text(txt)
