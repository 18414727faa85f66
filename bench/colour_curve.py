"""The SGAN's gain over the labels alone against the number of labels (the SVHN-like stand-in or real CIFAR-10): one table and one plot.

    .venv/bin/python bench/colour_curve.py bench/results/colour_{250,500,1000,4000}.json \
        --strong bench/results/colour_*_labels_strong.json --png nbs/images/colour_gain.png
    .venv/bin/python bench/colour_curve.py bench/results/cifar_test_*.json --png nbs/tutorials/images/cifar_gain.png

Reads the `--json` files of `bench/colour.py svhn` runs on the test set: the positional ones hold both learners
(one label count each); `--strong` ones the labels-only learner trained on batches changed by `colour_tfms()`
(`--baseline-only --baseline-strong`), the stronger baseline when the SGAN's consistency term uses those views.
`bench/cifar.py` files (real CIFAR-10, the JPEG copy) hold one or more of the three learners (`sgan`, `labels`,
`labels_strong`) for their seeds; the files of one label count are joined, and each learner needs the same seeds.
Prints a Markdown table (mean ± std over the seeds, and each seed's value) whose gain is over the better of the two
baselines; with `--png`, plots the accuracies and that gain against the label count.
"""
import argparse, json
from pathlib import Path
import numpy as np

def _load(f):
    r = json.loads(Path(f).read_text())
    st = r.get('settings', {})
    if st.get('split'): raise SystemExit(f"{f}: a --split run; the curve reports the test set")
    return r,st

def _accs(r, k): return [100*x['accuracy'] for x in r[k]['runs']]

def _merge_cifar(files):
    "`bench/cifar.py` files by label count: the seeds of several files (one learner or all three each) joined, checked complete"
    by = {}
    for f,r,st in files:
        o = by.setdefault(st['n_labeled'], dict(labels=st['n_labeled'], epochs=st['epochs'], data='CIFAR-10 (JPEG copy)', seeds={}))
        if st['epochs']!=o['epochs']: raise SystemExit(f"{f}: {st['epochs']} epochs, another file of {st['n_labeled']:,} labels has {o['epochs']}")
        for k in ('sgan','labels','labels_strong'):
            if k not in r: continue
            if 'sgan'==k: o['precision'] = r[k]['runs'][0].get('precision', 'fp32')
            for seed,acc in zip(st.get('seeds', range(len(r[k]['runs']))), _accs(r, k)):
                if (k,seed) in o['seeds']: raise SystemExit(f"{f}: seed {seed} of {k} is in two files")
                o['seeds'][k,seed] = acc
    res = {}
    for n,o in by.items():
        seeds = {k: sorted(s for kk,s in o['seeds'] if kk==k) for k in ('sgan','labels','labels_strong')}
        if not all(seeds.values()) or len({tuple(v) for v in seeds.values()})>1:
            raise SystemExit(f"{n:,} labels: needs the SGAN and both baselines for the same seeds (bench/cifar.py's default --kinds); has {seeds}")
        acc = lambda k: [o['seeds'][k,s] for s in seeds['sgan']]
        res[n] = dict(labels=n, epochs=o['epochs'], precision=o['precision'], sgan=acc('sgan'), sup=acc('labels'),
                      strong=acc('labels_strong'), data=o['data'])
    return res

def rows(files, strong=()):
    "One row per label count: the SGAN, the labels alone, and (where given) the labels alone on `colour_tfms` batches"
    res,cifar = {},[]
    for f in files:
        r,st = _load(f)
        if {'labels','labels_strong'}&set(r) or 'kinds' in st: # a `bench/cifar.py` run (seeds may span files)
            cifar.append((f,r,st)); continue
        if 'sgan' not in r or 'supervised' not in r: raise SystemExit(f"{f}: needs both learners (run without --no-baseline/--baseline-only)")
        res[st['n_labeled']] = dict(labels=st['n_labeled'], epochs=st['epochs'], precision=r['sgan']['runs'][0].get('precision', 'fp32'),
                                    sgan=_accs(r, 'sgan'), sup=_accs(r, 'supervised'), strong=None,
                                    data='SVHN-like stand-in')
    res.update(_merge_cifar(cifar))
    for f in strong:
        r,st = _load(f)
        if not st.get('baseline_strong') or st['n_labeled'] not in res: raise SystemExit(f"{f}: not a --baseline-strong run of a label count given")
        res[st['n_labeled']]['strong'] = _accs(r, 'supervised')
    for o in res.values(): o['base'] = max(np.mean(o['sup']), np.mean(o['strong']) if o['strong'] else 0.)
    return [res[k] for k in sorted(res)]

def table(rs)->str:
    fmt = lambda v: f"{np.mean(v):.2f}% ± {np.std(v):.2f} ({', '.join(f'{x:.2f}' for x in v)})" if v else ''
    lines = ['| labels | SGAN | labels only | labels only, `colour_tfms` batches | gain over the better | epochs, precision |',
             '|---|---|---|---|---|---|']
    lines += [f"| {o['labels']:,} ({o['labels']//10} a class) | {fmt(o['sgan'])} | {fmt(o['sup'])} | {fmt(o['strong'])} | "
              f"**{np.mean(o['sgan'])-o['base']:+.2f}** | {o['epochs']}, {o['precision']} |" for o in rs]
    return '\n'.join(lines)

def plot(rs, fname):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    n = [o['labels'] for o in rs]
    fig,(a1,a2) = plt.subplots(1, 2, figsize=(10, 3.4))
    series = [('sgan','SGAN'), ('sup','labels only')] + ([('strong','labels only, colour_tfms batches')] if all(o['strong'] for o in rs) else [])
    for k,lab in series:
        a1.errorbar(n, [np.mean(o[k]) for o in rs], yerr=[np.std(o[k]) for o in rs], marker='o', capsize=3, label=lab)
    a1.set(xscale='log', xlabel='labels', ylabel='test accuracy (%)'); a1.set_xticks(n, [f'{x:,}' for x in n]); a1.xaxis.set_minor_locator(plt.NullLocator()); a1.legend(fontsize=8)
    a2.bar([f'{x:,}' for x in n], [np.mean(o['sgan'])-o['base'] for o in rs], color='tab:green')
    a2.axhline(0, color='k', lw=0.8)
    a2.set(xlabel='labels', ylabel='gain (points)', title='over the better baseline')
    seeds = sorted({len(o['sgan']) for o in rs})
    if len(seeds)>1: what = 'mean of the seeds run (' + ', '.join(f"{len(o['sgan'])} at {o['labels']:,} labels" for o in rs) + ')'
    else: what = 'one seed' if seeds==[1] else f'mean of {seeds[0]} seeds'
    fig.suptitle(f"{rs[0]['data']}, test set: {what}" + ('' if seeds==[1] else ', error bars one standard deviation'), fontsize=10)
    fig.tight_layout()
    fig.savefig(fname, dpi=100)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('files', nargs='+')
    p.add_argument('--strong', nargs='*', default=[])
    p.add_argument('--png', default=None)
    a = p.parse_args()
    rs = rows(a.files, a.strong)
    print(table(rs))
    if a.png: plot(rs, a.png)

if __name__=='__main__': main()
