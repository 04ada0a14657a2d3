"The HTML report end to end: rendered with papermill + nbconvert from a results database, then opened in headless Chromium."
import json, re, shutil, subprocess
import pytest
from imbalance_study.study.analysis import synthetic_results, write_results_csv
from imbalance_study.study.report import render_report

CHROMIUM = next((shutil.which(b) for b in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(b)), None)

# Runs in the browser once the page has loaded; its verdict lands in the DOM that --dump-dom prints.
PROBE = """<script>window.addEventListener('load', () => {
  const imgs = [...document.images];
  const out = {images: imgs.length, decoded: imgs.filter(i => i.complete && i.naturalWidth > 100).length,
               tables: document.querySelectorAll('table').length,
               captions: [...document.querySelectorAll('p.table-caption')].map(c => c.textContent.trim().slice(0, 40)),
               h2: [...document.querySelectorAll('h2')].map(h => h.textContent.trim())};
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});</script>"""

@pytest.fixture(scope='module')
def report(tmp_path_factory):
    "One report from a (stand-in) SQLite results database: exercises the pluggable loader and the CSV hand-over."
    tmp = tmp_path_factory.mktemp('report')
    syn = synthetic_results(datasets=('retinamnist',), seeds=(0,))
    syn.loc[syn.index[:3], 'status'] = 'failed'   # a partial grid: failures are counted, not used
    write_results_csv(syn, tmp / 'results.sqlite')   # a stand-in database: CSV text, read by a 'module:function' loader
    out = render_report(tmp / 'results.sqlite', tmp / 'report.html', loader='imbalance_study.study.analysis:read_results_csv', note='Synthetic test data.',
                        out_notebook=tmp / 'report.ipynb', site_page=True)
    return out

def test_report_html_is_self_contained(report):
    html = report.read_text()
    assert html.count('data:image/png;base64,') >= 2                      # Figures 2 and 3, embedded
    assert not re.search(r'<(script|img|link)[^>]*(src|href)="https?://', html)  # nothing fetched from the network
    for s in ('Figure 2', 'Figure 3', 'Table 1', 'Table 2', 'Table 3', 'Table 6', 'Per-class F1 of retinamnist', 'Split: test'):
        assert s in html, s
    assert 'Synthetic test data.' in html and '333 finished runs' in html and '3 failed' in html
    assert 'Training precision: not recorded in these results' in html      # synthetic results have no precision column
    assert re.search(r'<h1[^>]*>Training strategies under data scarcity: results', html)   # the title, even for the site-page run
    assert '<title>Training strategies under data scarcity: results</title>' in html

def test_site_page_notebook(report):
    nb = json.loads((report.parent / 'report.ipynb').read_text())
    fm = nb['cells'][0]
    assert fm['cell_type'] == 'raw' and 'skip_exec: true' in ''.join(fm['source']) and 'title:' in ''.join(fm['source'])
    code = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
    assert all(c.startswith('#| echo: false') for c in code)
    assert not any('report-title' in c['metadata'].get('tags', []) for c in nb['cells'])      # Quarto shows the front matter's title
    injected = next(c for c in nb['cells'] if 'injected-parameters' in c['metadata'].get('tags', []))
    assert "results_csv = None  # render_report read the results from" in ''.join(injected['source'])  # not the deleted temp CSV

@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian/Ubuntu: apt-get install -y chromium)")
def test_report_in_browser(report, tmp_path):
    page = tmp_path / 'probe.html'
    page.write_text(report.read_text().replace('</body>', PROBE + '</body>'))
    args = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1200,7000']
    dom = subprocess.run(args + ['--dump-dom', page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, 'the page did not finish loading in Chromium'
    probe = json.loads(m.group(1).replace('&quot;', '"').replace('&amp;', '&'))
    assert probe['images'] >= 2 and probe['decoded'] == probe['images']   # every figure decoded by the browser
    assert probe['tables'] >= 7                                            # coverage, Fig. 2 data, Tables 1, 2, 3, 6 and per-class
    assert any(c.startswith('Table 1') for c in probe['captions']) and any(c.startswith('Table 3') for c in probe['captions'])
    assert {'Figure 2: the headroom per dataset and profile', 'Figure 3: one strategy at a time'} <= {h.rstrip('¶') for h in probe['h2']}
    shot = tmp_path / 'report.png'
    subprocess.run(args + [f'--screenshot={shot}', report.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 50_000                  # a rendered page, not a blank one
    print(f'screenshot: {shot}')

def test_report_says_the_training_precision(tmp_path):
    "A results table with a precision column: the report counts runs per precision and flags configurations that mix them."
    from imbalance_study.study.analysis import synthetic_results
    from imbalance_study.study.report import render_report
    df = synthetic_results()
    df['precision'] = ['bf16' if i % 3 else 'fp32' for i in range(len(df))]
    html = render_report(df, tmp_path/'p.html').read_text()
    from imbalance_study.study.analysis import FINISHED
    n16 = int((df[df.status.isin(FINISHED)].precision == 'bf16').sum())
    assert f'<strong>bf16</strong> ({n16} runs)' in html and 'Mixed precision' in html
