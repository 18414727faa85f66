"Write README.md from nbs/index.ipynb (nbconvert to markdown), as `nbdev-readme` would without Quarto; `--check` only compares."
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parents[1]

def readme_text()->str:
    nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
    nb.metadata['language_info'] = {'name': 'python'}
    body,_ = MarkdownExporter(exclude_output=True).from_notebook_node(nb)
    head = '<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file. -->\n\n'
    return head + body.strip() + '\n'

if __name__=='__main__':
    txt,dst = readme_text(),root/'README.md'
    if '--check' in sys.argv:
        if dst.read_text()!=txt: sys.exit('README.md differs from nbs/index.ipynb: run `python tools/readme.py`.')
    else: dst.write_text(txt)
