#!/usr/bin/env python3
"""Times the NOTEARS reference (linear.py of xunzheng/notears) on the `make bench` datasets.

linear.py is not on PyPI; gCastle (`gcastle`) ships a port of it as
castle/algorithms/gradient/notears/linear.py. That port keeps linear.py's least-squares loss,
its doubled variables with L-BFGS-B bounds, and its augmented-Lagrangian loop (rho *= 10 while
h_new > 0.25 h, alpha += rho h, stop at h <= h_tol or rho >= rho_max) line for line, but it
differs in two places:
  * its acyclicity function is the polynomial one of Yu et al. (2019),
    h = tr((I + W*W/d)^d) - d, where linear.py uses h = tr(exp(W*W)) - d (Zheng et al. 2018);
  * it logs after every inner solve with an extra objective evaluation as an argument.
Importing the port through `castle` would also pull in torch (castle.common.validator imports
it), which the linear path never uses.

So this driver reads the installed port's source, checks that it is the code described above,
and loads it with stub `castle.common` modules (no torch, no pandas). With --variant expm (the
default) it swaps the two lines of h back to linear.py's expm form, which makes the algorithm
linear.py's; with --variant poly it runs gCastle's formulation as shipped. In both it drops the
logging call's extra evaluation. Nothing of the port is copied here: the patches are applied to
the installed file in memory, and fail loudly if that file is not the expected one.

Usage:
  reference.py --env                      print numpy/scipy/BLAS versions as one JSON object
  reference.py DATADIR [--variant expm|poly] [--timeout S] [--repeats N] [NAME ...]
      one JSON line per dataset: {dataset, learner, impl, seconds, edges, shd, f1, n_edges, ...}
      (edges as the page writes them, A->B; `bench_learners --score` recomputes shd/f1 with
      causeway::metrics, which this file's compare() re-implements); a run that
      exceeds the timeout is reported with "timeout": S and no time.
"""

import argparse
import csv
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
import types

import numpy as np

LAMBDA1, MAX_ITER, H_TOL, RHO_MAX, W_THRESHOLD = 0.1, 100, 1e-8, 1e16, 0.3

# A fit whose median is under SHORT_S seconds after the requested repeats runs until SHORT_RUNS
# runs in all (fresh processes each): the shortest fits vary most with the machine's state.
SHORT_S = 1.0
SHORT_RUNS = int(os.environ.get("BENCH_SHORT_RUNS_REF") or 3)


def port_source_path():
    spec = importlib.util.find_spec("castle")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        sys.exit("reference.py: gcastle is not installed in this Python (pip install --no-deps gcastle==1.0.4)")
    return os.path.join(list(spec.submodule_search_locations)[0], "algorithms", "gradient", "notears", "linear.py")


def patch_once(source, pattern, replacement, what):
    new, count = re.subn(pattern, replacement, source, flags=re.MULTILINE)
    if count != 1:
        sys.exit(f"reference.py: gcastle's linear.py is not the expected code ({what}: {count} matches); "
                 "check the gcastle version (1.0.4 expected)")
    return new


def load_port(variant):
    """gCastle's Notears class, loaded from its file with stubbed castle.common modules."""
    path = port_source_path()
    with open(path, encoding="utf-8") as f:
        source = f.read()
    # The augmented-Lagrangian loop must be linear.py's.
    for needle in ["if h_new > 0.25 * h:", "rho *= 10", "alpha += rho * h", "if h <= h_tol or rho >= rho_max:",
                   "method='L-BFGS-B'", "X = X - np.mean(X, axis=0, keepdims=True)",
                   "obj = loss + 0.5 * rho * h * h + alpha * h + lambda1 * w.sum()"]:
        if needle not in source:
            sys.exit(f"reference.py: gcastle's linear.py lacks {needle!r}; it is not the expected port")
    source = patch_once(source, r"_func\(w_est\)\[0\]", "float('nan')", "the logging call's extra evaluation")
    if variant == "expm":
        source = patch_once(
            source,
            r"^(\s*)M = np\.eye\(d\) \+ W \* W / d.*\n\s*E = np\.linalg\.matrix_power\(M, d - 1\)\s*\n\s*h = \(E\.T \* M\)\.sum\(\) - d\s*$",
            r"\1E = _expm(W * W)\n\1h = np.trace(E) - d",
            "the polynomial acyclicity function")
    stubs = {
        "castle": types.ModuleType("castle"),
        "castle.common": types.ModuleType("castle.common"),
        "castle.common.consts": types.ModuleType("castle.common.consts"),
        "castle.common.validator": types.ModuleType("castle.common.validator"),
    }
    stubs["castle.common"].BaseLearner = object
    stubs["castle.common"].Tensor = np.asarray
    stubs["castle.common.consts"].NOTEARS_VALID_PARAMS = {"loss_type": ["l2", "logistic", "poisson"]}
    stubs["castle.common.validator"].check_args_value = lambda valid: (lambda f: f)
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        import scipy.linalg
        namespace = {"__name__": "gcastle_notears_linear", "_expm": scipy.linalg.expm}
        exec(compile(source, path, "exec"), namespace)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return namespace


class CountingOptimize:
    """Stands in for scipy.optimize in the port's namespace to count L-BFGS-B iterations."""

    def __init__(self, real):
        self.real, self.nit, self.nfev, self.solves = real, 0, 0, 0

    def minimize(self, *args, **kwargs):
        sol = self.real.minimize(*args, **kwargs)
        self.nit += int(sol.nit)
        self.nfev += int(sol.nfev)
        self.solves += 1
        return sol


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    names = rows[0]
    # Python's float() rounds correctly, so these are the f64s the Rust side wrote.
    return names, np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=np.float64)


def read_truth(path, names):
    index = {n: i for i, n in enumerate(names)}
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return {(index[a], index[b]) for a, b in rows}


def compare(truth, est, d):
    """SHD (missing + extra + reversed, a reversal counting 1), precision, recall, F1: the
    convention of causeway::metrics::compare, pair by pair."""
    correct = reversed_ = missing = extra = 0
    for i in range(d):
        for j in range(i + 1, d):
            tl, el = [], []
            for a, b in ((i, j), (j, i)):
                t, e = (a, b) in truth, (a, b) in est
                if t and e:
                    correct += 1
                elif t:
                    tl.append((a, b))
                elif e:
                    el.append((a, b))
            if tl and el:
                reversed_ += len(el)
            else:
                missing += len(tl)
                extra += len(el)
    precision = correct / len(est) if est else 0.0
    recall = correct / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return missing + extra + reversed_, precision, recall, f1


def run_one(datadir, name, variant):
    names, x = read_csv(os.path.join(datadir, f"{name}.csv"))
    truth = read_truth(os.path.join(datadir, f"{name}.truth.csv"), names)
    ns = load_port(variant)
    counter = CountingOptimize(ns["sopt"])
    ns["sopt"] = counter
    learner = ns["Notears"](lambda1=LAMBDA1, loss_type="l2", max_iter=MAX_ITER, h_tol=H_TOL,
                            rho_max=RHO_MAX, w_threshold=W_THRESHOLD)
    start = time.perf_counter()
    w = learner.notears_linear(x, lambda1=LAMBDA1, loss_type="l2", max_iter=MAX_ITER, h_tol=H_TOL, rho_max=RHO_MAX)
    seconds = time.perf_counter() - start
    w = np.array(w)
    w[np.abs(w) < W_THRESHOLD] = 0  # linear.py's thresholding
    d = w.shape[0]
    est = {(i, j) for i in range(d) for j in range(d) if w[i, j] != 0}
    shd, precision, recall, f1 = compare(truth, est, d)
    edges = sorted(f"{names[i]}->{names[j]}" for i, j in est)
    return {"seconds": seconds, "edges": edges, "shd": shd, "f1": round(f1, 4), "precision": round(precision, 4),
            "recall": round(recall, 4), "n_edges": len(est), "true_edges": len(truth),
            "inner_solves": counter.solves, "lbfgsb_iterations": counter.nit, "evaluations": counter.nfev}


def env_info():
    import scipy
    info = {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
            "port": "gcastle " + _gcastle_version(), "blas": []}
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                        for p in threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    info["openblas_env"] = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    return info


def _gcastle_version():
    try:
        from importlib.metadata import version
        return version("gcastle")
    except Exception:  # noqa: BLE001 - only for the report
        return "?"


def manifest_names(datadir):
    with open(os.path.join(datadir, "datasets.json"), encoding="utf-8") as f:
        return [entry["name"] for entry in json.load(f)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datadir", nargs="?")
    p.add_argument("names", nargs="*")
    p.add_argument("--env", action="store_true")
    p.add_argument("--variant", choices=["expm", "poly"], default="expm")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per run (default 600)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_intermixed_args()
    if a.env:
        print(json.dumps(env_info()))
        return
    if not a.datadir:
        p.error("DATADIR is required")
    if a.child:  # one run in a process of its own, so the parent can time it out
        print(json.dumps(run_one(a.datadir, a.names[0], a.variant)))
        return
    impl = "reference" if a.variant == "expm" else "gcastle"
    for name in a.names or manifest_names(a.datadir):
        runs, result, timed_out = [], None, False
        target = a.repeats
        while len(runs) < target:
            cmd = [sys.executable, os.path.abspath(__file__), a.datadir, name, "--variant", a.variant, "--child"]
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout, check=False)
            except subprocess.TimeoutExpired:
                timed_out = True
                break
            if out.returncode != 0:
                sys.exit(f"reference.py: {name} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(result["seconds"])
            if len(runs) == a.repeats and statistics.median(runs) < SHORT_S:
                target = max(a.repeats, SHORT_RUNS)
        line = {"dataset": name, "learner": "notears", "impl": impl, "variant": a.variant}
        if timed_out:
            line.update({"seconds": None, "timeout": a.timeout, "runs": runs})
        else:
            line.update(result)
            line["seconds"] = round(statistics.median(runs), 6)
            line["runs"] = [round(r, 6) for r in runs]
        print(json.dumps(line), flush=True)
        print(f"reference.py: {json.dumps(line)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
