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

# --- What the user pages may say and link to (README, index, tutorials, API pages; the Benchmarks page keeps the dated record)
import ast, json, re
USER_FILES = [ROOT/'README.md'] + sorted(p for p in (ROOT/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
LAB_LOG = re.compile(r"\b20[12]\d-\d\d-\d\d\b|\blease\b|\blent\b|\bsessions?\b|\bissues?\b|\btargets? (met|missed)|\bmissed\b"
                     r"|slow day|quieter day|machine was busy|this project's|on this (2-core )?(CPU|machine)|\bno GPU (was )?lent", re.I)
ANY_PAGE = re.compile(r"\blease\b|\blent\b|\bsessions?\b|slow day|quieter day") # not on the Benchmarks page either
HOSTS = ('arxiv.org', 'docs.fast.ai', 'pytorch.org', 'github.com')

def _texts(p:Path, kinds=('markdown','code')):
    "(where, text) of the prose and code a reader sees in `p`: the README, or a notebook's cells of `kinds` (outputs aside)"
    if p.suffix=='.md': return [(p.name, p.read_text())]
    where = p.relative_to(ROOT) if p.is_relative_to(ROOT) else p.name
    return [(f'{where} cell {i}', ''.join(c['source'])) for i,c in enumerate(json.loads(p.read_text())['cells']) if c['cell_type'] in kinds]

def _lab_log(p:Path)->list:
    pat = ANY_PAGE if p.name=='benchmarks.ipynb' else LAB_LOG
    return [f'{w}: {m.group(0)!r}' for w,t in _texts(p) for m in pat.finditer(t)]

def test_no_lab_log():
    "User pages explain and show results; dates, machine diaries and how the numbers were produced live on Benchmarks"
    bad = [b for p in USER_FILES for b in _lab_log(p)]
    assert not bad, '\n'.join(bad)

def test_lab_log_check_fails(tmp_path):
    "The check above can fail: it finds a date, a lease and a verdict, and lets the Benchmarks page keep dates"
    nb = dict(cells=[dict(cell_type='markdown', source='Measured on 2026-12-02 (target 99%: missed), lease ended.')])
    for name,n in (('page.ipynb', 3), ('benchmarks.ipynb', 1)):
        (tmp_path/name).write_text(json.dumps(nb))
        assert len(_lab_log(tmp_path/name))==n

def _links(p:Path)->list:
    "(where, target) of the markdown links and bare URLs of `p`"
    res = []
    for w,t in _texts(p, ('markdown',)):
        res += [(w, m.group(1)) for m in re.finditer(r"\]\(([^)\s]+)\)", t)]
        res += [(w, m.group(0)) for m in re.finditer(r"(?<!\()https?://[^\s)`'\"<>]+", t)]
    return res

def _bad_link(p:Path, target:str):
    if target.startswith(('http://', 'https://')):
        host = re.match(r'https?://([^/]+)', target).group(1)
        return None if host.endswith(HOSTS) else f'link to {host}'
    if target.startswith(('#', 'mailto:')): return None
    f = (p.parent/target.split('#')[0]).resolve()
    return None if f.exists() else f'{target} does not exist'

def test_links():
    "Links go to arXiv, docs.fast.ai, pytorch.org or GitHub, or relatively to a file of the repository (and so of the site)"
    bad = [f'{w}: {e}' for p in USER_FILES for w,t in _links(p) if (e := _bad_link(p, t))]
    assert not bad, '\n'.join(bad)
    readme = [t for _,t in _links(ROOT/'README.md')]
    assert any('nbs/tutorials/own_data.ipynb' in t for t in readme) and any('arxiv.org/abs/1606.03498' in t for t in readme)

def test_link_check_fails(tmp_path):
    (tmp_path/'a.ipynb').write_text('{}')
    assert _bad_link(tmp_path/'x.md', 'https://fastai-sgan.github.io/fastai_sgan/') and _bad_link(tmp_path/'x.md', 'b.ipynb')
    assert not _bad_link(tmp_path/'x.md', 'a.ipynb#part') and not _bad_link(tmp_path/'x.md', 'https://arxiv.org/abs/1606.01583')

FLAGS = re.compile(r"^#\|\s*(hide|eval:\s*false|cuda|download|export)\s*$", re.M)

def _silent(c)->bool:
    "Whether the code cell `c` shows nothing by design: flagged, or only imports, assignments and definitions"
    src = ''.join(c['source'])
    if FLAGS.search(src): return True
    try: body = ast.parse('\n'.join(l for l in src.splitlines() if not l.startswith(('#|', '!', '%'))))
    except SyntaxError: return False
    return not any(isinstance(s, ast.Expr) for s in body.body)

def _unexecuted(p:Path)->list:
    cells = json.loads(p.read_text())['cells']
    return [f'{p.relative_to(p.parents[1] if p.parent.name=="tutorials" else p.parent)} cell {i}' for i,c in enumerate(cells)
            if c['cell_type']=='code' and not c.get('outputs') and not _silent(c)]

def test_tutorials_show_outputs():
    "Every code cell of the index and the tutorials shows what it did, unless flagged not to run here"
    pages = [ROOT/'nbs'/'index.ipynb'] + sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))
    bad = [b for p in pages for b in _unexecuted(p)]
    assert not bad, 'code cells without outputs: ' + ', '.join(bad)

def test_output_check_fails(tmp_path):
    "A call without its output is caught; flagged cells, imports and assignments are not"
    code = lambda s, out=(): dict(cell_type='code', source=s, outputs=list(out), metadata={})
    cells = [code('learn.fit_one_cycle(1)'), code('#| hide\ntest_eq(1, 1)'), code('x = 1\nfrom os import path'),
             code('#| slow\nlearn.fit(1)'), code('print(1)', [dict(output_type='stream', name='stdout', text='1')])]
    (tmp_path/'tutorials').mkdir()
    (tmp_path/'tutorials'/'t.ipynb').write_text(json.dumps(dict(cells=cells)))
    assert _unexecuted(tmp_path/'tutorials'/'t.ipynb')==['tutorials/t.ipynb cell 0', 'tutorials/t.ipynb cell 3']

def test_tutorial_cells_plain_fastai():
    "Checks (`test_eq`, `assert`) sit in `#| hide` cells: readers of the tutorials see fastai code only"
    bad = []
    for p in [ROOT/'nbs'/'index.ipynb'] + sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb')):
        for i,c in enumerate(json.loads(p.read_text())['cells']):
            src = ''.join(c['source'])
            if c['cell_type']=='code' and '#| hide' not in src and re.search(r'^\s*(assert\b|test_\w+\()', src, re.M): bad.append(f'{p.name} cell {i}')
    assert not bad, ', '.join(bad)
