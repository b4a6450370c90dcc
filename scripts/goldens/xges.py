"""Golden data for XGES: seeded linear-Gaussian ER datasets (and the Sachs observational data
in static/data) and the reference `xges` package's CPDAGs and scores on them, for XGES-0
(`extended_search=False`) and XGES.

Run from the repository root in a venv with the reference installed:
    python scripts/goldens/xges.py
Writes tests/data/xges/*.csv, scores.csv and timings.txt. The reference runs on the data as
written (rounded to 5 significant digits), so both sides see the same numbers.
"""

import os
import sys
import time

# This file is named like the package it tests: keep its folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numpy as np

import xges
from xges import XGES

ROOT = os.path.join(_HERE, "..", "..")
OUT = os.path.join(ROOT, "tests", "data", "xges")
os.makedirs(OUT, exist_ok=True)


def er_dag(rng, d, degree):
    """Erdős–Rényi DAG in a random causal order, weights ±U(0.5, 2) (as src/data/synthetic.rs)."""
    order = rng.permutation(d)
    p = degree / (d - 1)
    w = np.zeros((d, d))
    for a in range(d):
        for b in range(a + 1, d):
            if rng.random() < p:
                w[order[a], order[b]] = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)
    return w, order


def sample(rng, w, order, n):
    """Linear-Gaussian rows X_j = Σ_i W_ij X_i + N(0, 1)."""
    x = np.zeros((n, w.shape[0]))
    for j in order:
        x[:, j] = x @ w[:, j] + rng.standard_normal(n)
    return x


# (name, seed, d, expected degree, n)
DATASETS = [
    ("er8", 201, 8, 2, 600),
    ("er12", 202, 12, 3, 500),
    ("er16", 203, 16, 2, 400),
]


def run(name, x, timings, scores):
    for extended, tag in [(False, "xges0"), (True, "xges")]:
        model = XGES(alpha=2.0)
        t0 = time.perf_counter()
        pdag = model.fit(x, extended_search=extended, verbose=0)
        dt = time.perf_counter() - t0
        np.savetxt(
            os.path.join(OUT, f"{name}_ref_{tag}.csv"),
            pdag.to_adjacency_matrix().astype(int),
            fmt="%d",
            delimiter=",",
        )
        scores.append(f"{name},{tag},{model.initial_score!r},{model.total_score!r}")
        timings.append(f"{name} {tag} d={x.shape[1]} n={x.shape[0]} seconds={dt:.2f}")
        print(timings[-1], scores[-1], flush=True)


def main():
    timings, scores = [], ["dataset,variant,initial_score,total_score"]
    for name, seed, d, degree, n in DATASETS:
        rng = np.random.default_rng(seed)
        w, order = er_dag(rng, d, degree)
        x = sample(rng, w, order, n)
        data_path = os.path.join(OUT, f"{name}_data.csv")
        header = ",".join(f"X{j + 1}" for j in range(d))
        np.savetxt(data_path, x, fmt="%.5g", delimiter=",", header=header, comments="")
        np.savetxt(os.path.join(OUT, f"{name}_truth.csv"), (w != 0).astype(int), fmt="%d", delimiter=",")
        run(name, np.loadtxt(data_path, delimiter=",", skiprows=1), timings, scores)
    sachs = np.loadtxt(
        os.path.join(ROOT, "static", "data", "sachs_observational.csv"), delimiter=",", skiprows=1
    )
    run("sachs", sachs, timings, scores)
    with open(os.path.join(OUT, "scores.csv"), "w") as f:
        f.write("\n".join(scores) + "\n")
    with open(os.path.join(OUT, "timings.txt"), "w") as f:
        f.write(f"xges {xges.__version__}\n" + "\n".join(timings) + "\n")


if __name__ == "__main__":
    main()
