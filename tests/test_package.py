"""The package as released: the license in the wheel and the sdist, the changelog's version, and the built wheel
installed alone into a fresh virtual environment and run from a folder outside the clone"""
import json, os, re, shutil, subprocess, sys, sysconfig, tarfile, tomllib, venv, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = 'fastai_sgan'

def _version()->str:
    from fastai_sgan import __version__ # the clone's (the editable install)
    return __version__

def _urls()->dict: return tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['urls']

def _tree(dst:Path):
    "Copy the files a commit would hold (git's tracked and unignored files; without git, all but `.venv`/`.git`) to `dst`"
    try: files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns('.venv', '.git', '__pycache__', '*.egg-info', 'build', 'dist'))
    for f in filter(None, files.decode().split('\0')):
        if not (ROOT/f).is_file(): continue # deleted in the working tree
        (dst/f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT/f, dst/f)

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    "The sdist and the wheel, built as a release is (`python -m build`: the sdist, then the wheel from the sdist)"
    tmp = tmp_path_factory.mktemp('release')
    _tree(tmp/'src')
    r = subprocess.run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', str(tmp/'dist'), str(tmp/'src')],
                       capture_output=True, text=True)
    assert r.returncode==0, r.stdout[-3000:]+r.stderr[-3000:]
    v = _version()
    whl,sdist = tmp/'dist'/f'{PKG}-{v}-py3-none-any.whl', tmp/'dist'/f'{PKG}-{v}.tar.gz'
    assert whl.exists() and sdist.exists(), sorted(p.name for p in (tmp/'dist').iterdir())
    return whl,sdist

def test_license_in_both_archives(dist):
    "The Apache-2.0 text that pyproject.toml declares is in the repository, the wheel and the sdist"
    lic = (ROOT/'LICENSE').read_bytes()
    assert lic.lstrip().startswith(b'Apache License') and b'Version 2.0, January 2004' in lic and b'END OF TERMS AND CONDITIONS' in lic
    assert 'license = "Apache-2.0"' in (ROOT/'pyproject.toml').read_text()
    whl,sdist = dist
    v = _version()
    with zipfile.ZipFile(whl) as z:
        assert z.read(f'{PKG}-{v}.dist-info/licenses/LICENSE')==lic
        meta = z.read(f'{PKG}-{v}.dist-info/METADATA').decode()
    assert 'License-Expression: Apache-2.0' in meta and 'License-File: LICENSE' in meta
    with tarfile.open(sdist) as t: assert t.extractfile(f'{PKG}-{v}/LICENSE').read()==lic

def test_archives_hold_the_package(dist):
    "Both archives carry every module of the package as exported, and the wheel the two commands"
    whl,sdist = dist
    v = _version()
    mods = {p.name: p.read_bytes() for p in (ROOT/PKG).glob('*.py')}
    with zipfile.ZipFile(whl) as z:
        assert {n.split('/')[1]: z.read(n) for n in z.namelist() if n.startswith(f'{PKG}/')}==mods
        eps = z.read(f'{PKG}-{v}.dist-info/entry_points.txt').decode()
    assert 'sgan-train = fastai_sgan.cli:sgan_train' in eps and 'sgan-demo = fastai_sgan.cli:sgan_demo' in eps
    with tarfile.open(sdist) as t: names = t.getnames()
    assert {n.split('/')[-1] for n in names if re.fullmatch(rf'{PKG}-{v}/{PKG}/\w+\.py', n)}==set(mods)
    # nothing else: the tests need the whole clone, so they are not shipped half
    top = {n.split('/')[1] for n in names if n.count('/')}
    assert top <= {'LICENSE', 'PKG-INFO', 'README.md', 'pyproject.toml', 'setup.cfg', 'MANIFEST.in', PKG, f'{PKG}.egg-info'}, top

def _changelog_versions()->list:
    return re.findall(r'^## (\d+\.\d+\.\d+)\s*$', (ROOT/'CHANGELOG.md').read_text(), re.M)

def test_changelog():
    "CHANGELOG.md has a section for the package's version, the newest first, and the README's install section links to it"
    vs = _changelog_versions()
    assert vs and vs[0]==_version() and len(vs)==len(set(vs))
    key = lambda s: tuple(map(int, s.split('.')))
    assert vs==sorted(vs, key=key, reverse=True)
    repo = _urls()['Repository']
    install = (ROOT/'README.md').read_text().split('## Install')[1].split('\n## ')[0]
    assert f'({repo}/blob/main/CHANGELOG.md)' in install

def _workflow(name)->dict:
    import yaml
    wf = yaml.safe_load((ROOT/'.github'/'workflows'/name).read_text())
    wf['on'] = wf.pop(True, wf.get('on')) # YAML 1.1 reads the key `on` as True
    return wf

def _steps(wf)->list: return [s for j in wf['jobs'].values() for s in j['steps']]

def test_workflows():
    "The code host runs README's test command on pushes and pull requests, and publishes nbdev's site from the main branch"
    from nbdev.config import get_config
    cfg = get_config(ROOT)
    test = _workflow('test.yaml')
    assert {'push', 'pull_request'} <= set(test['on'])
    cmd = (ROOT/'.ci'/'run').read_text().strip().splitlines()[-1] # the command CI runs, the README's (tests/test_readme.py)
    assert cmd in [s.get('run', '').strip() for s in _steps(test)]
    deploy = _workflow('deploy.yaml')
    assert deploy['on']['push']['branches']==[cfg.branch] and deploy['permissions']['contents']=='write'
    runs = '\n'.join(s.get('run', '') for s in _steps(deploy))
    assert 'nbdev-docs' in runs and 'tools/setup.sh' in runs
    pub = [s['with'] for s in _steps(deploy) if s.get('uses', '').startswith('peaceiris/actions-gh-pages')]
    assert len(pub)==1 and Path(pub[0]['publish_dir'])==Path(cfg.doc_path.name)

def test_site_address():
    "The site nbdev builds is served where pyproject.toml's `Documentation` URL points, from its `Repository`"
    from nbdev.config import get_config
    cfg = get_config(ROOT)
    urls = _urls()
    assert urls['Documentation'].rstrip('/')==cfg.doc_host+cfg.doc_baseurl and urls['Repository']==cfg.git_url

def _run(args, cwd, env, timeout=600):
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    print(f'$ {" ".join(Path(str(a)).name if i==0 else str(a) for i,a in enumerate(args))}\n{r.stdout}{r.stderr}')
    return r

def test_wheel_alone(dist, tmp_path):
    """The wheel, installed with `--no-deps` into a new virtual environment that sees this environment's dependencies
    but not the clone (nor its editable install), imports, trains with `sgan-train` and answers `python -m fastai_sgan`"""
    whl,_ = dist
    env = tmp_path/'env'
    venv.EnvBuilder(with_pip=False).create(env) # from the base interpreter: nothing installed
    py = env/'bin'/'python'
    site = Path(subprocess.run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                               capture_output=True, text=True, check=True).stdout.strip())
    # the dependencies: every entry of this environment's site-packages but fastai_sgan's own (the editable install)
    deps = tmp_path/'deps'
    deps.mkdir()
    mine = re.compile(r'(__editable__[._]+)?fastai_sgan([-_.].*)?$')
    for p in Path(sysconfig.get_paths()['purelib']).iterdir():
        if not mine.match(p.name): (deps/p.name).symlink_to(p)
    (site/'_deps.pth').write_text(f'import site; site.addsitedir({str(deps)!r})\n')
    run = tmp_path/'run' # outside the clone: nothing of the repository on the path
    run.mkdir()
    environ = {k:v for k,v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    environ.update(PATH=f"{env/'bin'}{os.pathsep}{environ.get('PATH', '')}", MPLBACKEND='Agg', FASTAI_HOME=str(tmp_path/'fastai_home'))

    r = _run([py, '-c', 'import fastai.vision.all; import fastai_sgan'], run, environ)
    assert r.returncode!=0 and "No module named 'fastai_sgan'" in r.stderr, 'the new environment should not see the clone'
    r = _run([py, '-m', 'pip', 'install', '--no-deps', '--no-index', '--no-compile', '--disable-pip-version-check', whl], run, environ)
    assert r.returncode==0

    code = ("import sys; from fastai_sgan.all import *; import fastai_sgan; "
            "print(fastai_sgan.__version__, SemiSupervisedDataLoaders.__name__, sgan_learner.__name__); "
            "print('\\n'.join(sorted(m.__file__ for n,m in list(sys.modules.items()) if n.split('.')[0]=='fastai_sgan')))")
    r = _run([py, '-c', code], run, environ)
    assert r.returncode==0 and r.stdout.startswith(f'{_version()} SemiSupervisedDataLoaders sgan_learner')
    files = r.stdout.splitlines()[1:]
    assert len(files)>=10 and all(Path(f).is_relative_to(site/PKG) for f in files), files

    r = _run([env/'bin'/'sgan-train', '--dataset', 'digits', '--epochs', '1'], run, environ)
    assert r.returncode==0 and '1 epoch (given' in r.stdout
    res = json.loads((run/'sgan_out'/'results.json').read_text())
    assert res['fastai_sgan']==_version() and res['epochs']==1 and 0<=res['sgan']['accuracy']<=1

    r = _run([py, '-m', PKG, '--help'], run, environ)
    assert r.returncode==0 and r.stdout.startswith('usage:') and '--dataset' in r.stdout
