#!/usr/bin/env python3
"""Times the Python references of PC, GES, XGES, DAGMA and SDCD on the `make bench` datasets.

(NOTEARS has its own driver, bench/reference.py.) Each reference is called as the golden
scripts under scripts/goldens/ call it:
  pc     causal-learn 0.1.4.8: pc(x, 0.05, "fisherz", stable=True, uc_rule=0, uc_priority=2)
  ges    causal-learn 0.1.4.8: ges(x, score_func="local_score_BIC", parameters={"lambda_value": 0.5})
  xges   xges 0.1.6: XGES(alpha=2.0).fit(x, extended_search=True)
  dagma  dagma 1.1.1: DagmaLinear(loss_type="l2").fit(x, lambda1=0.02, s=[1.0, 0.9, 0.8, 0.7, 0.6])
         (its defaults otherwise: w_threshold 0.3, T = 5, ...)
  sdcd   sdcd 0.1.4: SDCD().train(create_intervention_dataset(df)) with all its defaults,
         get_adjacency_matrix(threshold=True); torch.set_num_threads(BENCH_REF_THREADS or 1).
         SDCD.train seeds everything with set_random_seed_all(0); with --seed S that call is
         given S instead (as scripts/goldens/sdcd.py does), so runs with several seeds show
         the spread of a stochastic method.
on the CSV as written by bench_data (Python's float() gives back the exact f64s). Only the
fit is timed, after reading the CSV and importing the package (and, for xges, after a small
warm-up fit that makes numba compile its kernels); each run is a fresh process, so the parent can
stop it at the timeout.

Usage:
  reference_learners.py --env                              versions as one JSON object
  reference_learners.py DATADIR --learner ID [--timeout S] [--repeats N] [--seed S] [NAME ...]
      one JSON line per dataset: {dataset, learner, impl: "reference", seconds, runs, edges}
      (and seed, with --seed; SDCD only)
      with edges written as the page writes them (A->B, A--B for undirected); a run over the
      timeout gives {"seconds": null, "timeout": S}. Scores are added by
      `bench_learners --score` (causeway::metrics), the same code for every contender.
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time

# Keep this folder off the import path (a script named like a package must not shadow it).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

# A fit whose median is under SHORT_S seconds after the requested repeats runs until SHORT_RUNS
# runs in all (fresh processes each): the shortest fits vary most with the machine's state.
SHORT_S = 1.0
SHORT_RUNS = int(os.environ.get("BENCH_SHORT_RUNS_REF") or 3)

LEARNERS = ["pc", "ges", "xges", "dagma", "sdcd"]


def read_csv(path):
    import numpy as np
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=np.float64)


def two_way_from_endpoints(graph):
    """causal-learn's endpoint matrix (graph[j,i]=1, graph[i,j]=-1 for i -> j; both -1 for i -- j)
    to the two-way 0/1 convention (as scripts/goldens/pc_ges.py); a bidirected edge counts as
    adjacency with both marks (it cannot arise in a CPDAG, PC can produce one from conflicts)."""
    import numpy as np
    d = graph.shape[0]
    m = np.zeros((d, d), dtype=int)
    for i in range(d):
        for j in range(d):
            if i != j and graph[i, j] == -1 and graph[j, i] in (1, -1):
                m[i, j] = 1
            if i != j and graph[i, j] == 1 and graph[j, i] == 1:
                m[i, j] = m[j, i] = 1
    return m


def labels(names, m, cpdag):
    out = []
    d = len(names)
    for i in range(d):
        for j in range(d):
            if i == j or not m[i][j]:
                continue
            if cpdag and m[j][i]:
                if i < j:
                    out.append(f"{names[i]}--{names[j]}")
            else:
                out.append(f"{names[i]}->{names[j]}")
    return sorted(out)


def threads():
    return int(os.environ.get("BENCH_REF_THREADS") or 1)


def run_one(datadir, name, learner, seed=None):
    import numpy as np
    names, x = read_csv(os.path.join(datadir, f"{name}.csv"))
    if learner == "pc":
        from causallearn.search.ConstraintBased.PC import pc
        t0 = time.perf_counter()
        cg = pc(x, 0.05, "fisherz", stable=True, uc_rule=0, uc_priority=2, show_progress=False)
        seconds = time.perf_counter() - t0
        m, cpdag = two_way_from_endpoints(cg.G.graph), True
    elif learner == "ges":
        from causallearn.search.ScoreBased.GES import ges
        t0 = time.perf_counter()
        rec = ges(x, score_func="local_score_BIC", parameters={"lambda_value": 0.5})
        seconds = time.perf_counter() - t0
        m, cpdag = two_way_from_endpoints(rec["G"].graph), True
    elif learner == "xges":
        from xges import XGES
        # xges compiles its kernels with numba on first use, ~5-15 s per fresh process: fit a
        # small slice first so that the timed fit is the algorithm, as the page's worker warms
        # its code up before a run.
        XGES(alpha=2.0).fit(np.ascontiguousarray(x[:200, : min(x.shape[1], 5)]), extended_search=True, verbose=0)
        model = XGES(alpha=2.0)
        t0 = time.perf_counter()
        pdag = model.fit(x, extended_search=True, verbose=0)
        seconds = time.perf_counter() - t0
        m, cpdag = pdag.to_adjacency_matrix().astype(int), True
    elif learner == "dagma":
        from dagma.linear import DagmaLinear
        model = DagmaLinear(loss_type="l2")
        t0 = time.perf_counter()
        w = model.fit(x.copy(), lambda1=0.02, s=[1.0, 0.9, 0.8, 0.7, 0.6])
        seconds = time.perf_counter() - t0
        m, cpdag = (np.abs(w) > 0).astype(int), False
    elif learner == "sdcd":
        import pandas as pd
        import torch
        from sdcd.models import SDCD
        from sdcd.utils import create_intervention_dataset
        torch.set_num_threads(threads())
        df = pd.DataFrame(x, columns=names)
        df["perturbation_label"] = "obs"
        if seed is not None:
            import sdcd.utils
            original = sdcd.utils.set_random_seed_all
            sys.modules["sdcd.models._sdcd"].set_random_seed_all = lambda _s: original(seed)
        t0 = time.perf_counter()
        ds = create_intervention_dataset(df, perturbation_colname="perturbation_label")
        model = SDCD()
        model.train(ds)
        seconds = time.perf_counter() - t0
        m, cpdag = (np.asarray(model.get_adjacency_matrix(threshold=True)) != 0).astype(int), False
    else:
        sys.exit(f"reference_learners.py: no learner {learner!r}")
    return {"seconds": seconds, "edges": labels(names, m, cpdag)}


def env_info():
    from importlib.metadata import version, PackageNotFoundError
    info = {"python": sys.version.split()[0]}
    for pkg in ["numpy", "scipy", "causal-learn", "xges", "dagma", "sdcd", "torch", "pandas"]:
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads")} for p in threadpool_info()]
    except ImportError:
        pass
    return info


def manifest_names(datadir):
    with open(os.path.join(datadir, "datasets.json"), encoding="utf-8") as f:
        return [entry["name"] for entry in json.load(f)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datadir", nargs="?")
    p.add_argument("names", nargs="*")
    p.add_argument("--env", action="store_true")
    p.add_argument("--learner", choices=LEARNERS)
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_intermixed_args()
    if a.env:
        print(json.dumps(env_info()))
        return
    if not a.datadir or not a.learner:
        p.error("DATADIR and --learner are required")
    if a.seed is not None and a.learner != "sdcd":
        p.error(f"{a.learner} has no seed (only sdcd is stochastic)")
    seed_args = [] if a.seed is None else ["--seed", str(a.seed)]
    if a.child:
        print(json.dumps(run_one(a.datadir, a.names[0], a.learner, a.seed)))
        return
    for name in a.names or manifest_names(a.datadir):
        runs, result, timed_out, error = [], None, False, None
        target = a.repeats
        while len(runs) < target:
            cmd = [sys.executable, os.path.abspath(__file__), a.datadir, name, "--learner", a.learner, "--child", *seed_args]
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout, check=False)
            except subprocess.TimeoutExpired:
                timed_out = True
                break
            if out.returncode != 0:
                sys.stderr.write(out.stderr[-3000:])
                error = f"exit {out.returncode}: " + (out.stderr.strip().splitlines() or ["?"])[-1]
                print(f"reference_learners.py: {a.learner} on {name} failed ({error})", file=sys.stderr, flush=True)
                break
            result = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(result["seconds"])
            if len(runs) == a.repeats and statistics.median(runs) < SHORT_S:
                target = max(a.repeats, SHORT_RUNS)
            print(f"reference_learners.py: {a.learner} {name}: {result['seconds']:.2f} s", file=sys.stderr, flush=True)
        line = {"dataset": name, "learner": a.learner, "impl": "reference"}
        if a.seed is not None:
            line["seed"] = a.seed
        if error is not None:
            line.update({"seconds": None, "error": error, "runs": runs})
        elif timed_out:
            line.update({"seconds": None, "timeout": a.timeout, "runs": runs})
            print(f"reference_learners.py: {a.learner} {name}: over the {a.timeout:.0f} s timeout", file=sys.stderr, flush=True)
        else:
            line.update({"seconds": statistics.median(runs), "runs": runs, "edges": result["edges"]})
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
