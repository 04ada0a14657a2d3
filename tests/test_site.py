"The documentation site's configuration, checked offline (Quarto itself runs only in the docs workflow)."
import fnmatch, re
from pathlib import Path
import yaml

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'

def _entries(contents):
    "All file entries (paths or globs) of a Quarto sidebar, sections flattened."
    if isinstance(contents, str): return [contents]
    out = []
    for c in contents:
        if isinstance(c, str): out.append(c)
        elif isinstance(c, dict) and 'contents' in c: out += _entries(c['contents'])
        elif isinstance(c, dict) and 'href' in c: out.append(c['href'])
    return out

def test_sidebar_lists_every_notebook():
    q = yaml.safe_load((NBS / '_quarto.yml').read_text())
    entries = _entries(q['website']['sidebar']['contents'])
    assert 'report*.ipynb' in entries                      # the results report is a page of the site
    pages = [p.name for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.'))]
    missing = [p for p in pages if not any(fnmatch.fnmatch(p, e) for e in entries)]
    assert not missing, f"notebooks not in the sidebar of nbs/_quarto.yml: {missing}"
    # a glob whose basename starts with '*' crashes Quarto >= 1.10 when it matches nothing (quarto-cli#14757)
    assert not [e for e in entries if '*' in e and Path(e).name.startswith('*')]
    assert 'sidebar.yml' not in q.get('metadata-files', [])  # nbdev's generated flat sidebar is not used

def test_nbdev_yml_is_what_nbdev_writes():
    "nbdev-proc-nbs / nbdev-docs rewrite nbs/nbdev.yml from pyproject.toml: the committed one must match, or the tree goes dirty."
    from nbdev.config import get_config
    from nbdev.quarto import _nbdev_yml
    cfg = get_config(path=ROOT)
    vals = {k: cfg[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    vals['doc_path'] = cfg.doc_path.name
    assert (NBS / 'nbdev.yml').read_text() == _nbdev_yml.format(**vals)

def test_docs_workflow():
    wf = yaml.safe_load((ROOT / '.github' / 'workflows' / 'docs.yml').read_text())
    steps = wf['jobs']['docs']['steps']
    uses = [s.get('uses', '') for s in steps]
    runs = '\n'.join(s.get('run', '') for s in steps)
    assert any(u.startswith('quarto-dev/quarto-actions/setup') for u in uses)
    assert 'pip install -c constraints.txt -e ".[all,dev]"' in runs and 'nbdev-docs' in runs
    assert re.search(r'python -m imbalance_study\.study\.report "\$db" .*--notebook "nbs/report_\$study\.ipynb" --site-page', runs)
    assert runs.index('imbalance_study.study.report') < runs.index('nbdev-docs')   # the report pages exist before the site is built
    assert any(u.startswith('peaceiris/actions-gh-pages') for u in uses)
    # the report pages are rendered from the committed stores: the folder the workflow globs holds finished runs
    import sqlite3
    stores = sorted((ROOT / wf['jobs']['docs']['env']['RESULTS']).glob('*/results.sqlite'))
    assert stores and '"$RESULTS"/*/results.sqlite' in runs
    done = {p.parent.name: sqlite3.connect(f'file:{p}?mode=ro', uri=True).execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0] for p in stores}
    assert done.get('hierarchy', 0) >= 112, done   # the hierarchy study's store: the factorial grid and more

def test_make_test_runs_the_docs_step():
    "`make test` runs `nbdev-proc-nbs` (the step of `nbdev-docs` before Quarto) on every notebook."
    mk = (ROOT / 'Makefile').read_text()
    test_deps = re.search(r'^test:(.*)$', mk, re.M).group(1).split()
    assert 'docs-check' in test_deps
    recipe = mk.split('\ndocs-check:', 1)[1].split('\n\n', 1)[0]
    assert 'nbdev_proc_nbs' in recipe and 'force=True' in recipe and 'exit 1' in recipe
