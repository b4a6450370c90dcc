"""Golden data for DAGMA (linear): seeded linear-Gaussian ER datasets and the reference
`dagma` package's `DagmaLinear(loss_type="l2").fit` on them.

Run from the repository root in a venv with the reference installed:
    python scripts/goldens/dagma.py
Writes tests/data/dagma/*.csv and timings.txt. The reference runs on the data as written
(rounded to 5 significant digits), so both sides see the same numbers.
"""

import os
import sys
import time

# This file is named like the package it tests: keep its folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numpy as np

from dagma.linear import DagmaLinear

OUT = os.path.join(_HERE, "..", "..", "tests", "data", "dagma")
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
    ("er5", 101, 5, 2, 500),
    ("er10", 102, 10, 2, 500),
    ("er15", 103, 15, 2, 500),
    ("er20", 104, 20, 1, 500),
]


def main():
    timings = []
    for name, seed, d, degree, n in DATASETS:
        rng = np.random.default_rng(seed)
        w, order = er_dag(rng, d, degree)
        x = sample(rng, w, order, n)
        data_path = os.path.join(OUT, f"{name}_data.csv")
        header = ",".join(f"X{j + 1}" for j in range(d))
        np.savetxt(data_path, x, fmt="%.5g", delimiter=",", header=header, comments="")
        np.savetxt(os.path.join(OUT, f"{name}_truth.csv"), (w != 0).astype(int), fmt="%d", delimiter=",")
        x = np.loadtxt(data_path, delimiter=",", skiprows=1)
        for lam in [0.02, 0.03]:
            model = DagmaLinear(loss_type="l2")
            t0 = time.perf_counter()
            # s is passed as a fresh list: fit mutates it in place when it retries with a larger s.
            w_est = model.fit(x.copy(), lambda1=lam, s=[1.0, 0.9, 0.8, 0.7, 0.6])
            dt = time.perf_counter() - t0
            tag = f"{name}_ref_l{int(round(lam * 100)):02d}"
            np.savetxt(os.path.join(OUT, f"{tag}.csv"), w_est, fmt="%.10g", delimiter=",")
            timings.append(f"{tag} d={d} n={n} seconds={dt:.2f}")
            print(timings[-1], "edges", int((w_est != 0).sum()), flush=True)
    with open(os.path.join(OUT, "timings.txt"), "w") as f:
        f.write("\n".join(timings) + "\n")


if __name__ == "__main__":
    main()
