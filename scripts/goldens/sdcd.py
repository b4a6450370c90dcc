"""Golden data for SDCD: seeded datasets, the reference `sdcd` package's learned graphs on
them, and one loss/gradient evaluation of its model for an exact check of our model math.

Run from the repository root (CPU torch + sdcd in a venv):
    python scripts/goldens/sdcd.py
Writes tests/data/sdcd/*.csv, loss_grad.txt and timings.txt (about 4 minutes on one core);
`--loss-grad-only` rewrites loss_grad.txt alone; `--seeds 1 2` runs the reference with those
seeds only (default 0 1 2); `--only er15` runs the reference on one dataset; timings are
appended to timings.txt.
"""

import os
import sys
import time

# This file is named like the package it tests: keep its folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numpy as np
import pandas as pd
import torch
from torch import nn

import sdcd
import sdcd.utils
from sdcd.models import SDCD
from sdcd.models.modules import AutoEncoderLayers
from sdcd.utils import create_intervention_dataset

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "sdcd")
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


def sample(rng, w, order, n, target=None):
    """Linear-Gaussian rows X_j = Σ_i W_ij X_i + N(0, 1); a hard intervention on `target`
    replaces its equation with N(0, 1)."""
    d = w.shape[0]
    x = np.zeros((n, d))
    for j in order:
        noise = rng.standard_normal(n)
        x[:, j] = noise if j == target else x @ w[:, j] + noise
    return x


def save_dataset(name, x, w, labels=None):
    d = x.shape[1]
    cols = [f"X{j + 1}" for j in range(d)]
    df = pd.DataFrame(x, columns=cols)
    if labels is not None:
        df["target"] = labels
    df.to_csv(os.path.join(OUT, f"{name}_data.csv"), index=False, float_format="%.6g")
    np.savetxt(os.path.join(OUT, f"{name}_truth.csv"), (w != 0).astype(int), fmt="%d", delimiter=",")
    return cols


SEEDS = [0, 1, 2]


def run_reference(name, x, labels, cols, seed):
    df = pd.DataFrame(x, columns=cols)
    df["perturbation_label"] = labels
    ds = create_intervention_dataset(df, perturbation_colname="perturbation_label")
    # Reference defaults. SDCD.train always calls set_random_seed_all(0); to see how much the
    # result varies with the random stream, the seed it uses is replaced by `seed`.
    sdcd_module = sys.modules["sdcd.models._sdcd"]
    original = sdcd.utils.set_random_seed_all
    sdcd_module.set_random_seed_all = lambda _s: original(seed)
    model = SDCD()
    t0 = time.time()
    model.train(ds)
    secs = time.time() - t0
    sdcd_module.set_random_seed_all = original
    adj = model.get_adjacency_matrix(threshold=False)
    dag = model.get_adjacency_matrix(threshold=True)
    np.savetxt(os.path.join(OUT, f"{name}_ref_raw_s{seed}.csv"), adj, fmt="%.6g", delimiter=",")
    np.savetxt(os.path.join(OUT, f"{name}_ref_dag_s{seed}.csv"), dag, fmt="%d", delimiter=",")
    return secs


def loss_grad_case():
    """One `AutoEncoderLayers.loss` evaluation (stage-2 model: mask, power-iteration penalty,
    intervention mask) with non-trivial parameters, and the gradient of every parameter."""
    torch.manual_seed(3)
    d, h = 4, 10
    mask = np.ones((d, d), dtype=int) - np.eye(d, dtype=int)
    mask[0, 2] = 0
    model = AutoEncoderLayers(d, [h], nn.Sigmoid(), model_variance_flavor="nn",
                              shared_layers=False, adjacency_p=2.0,
                              dag_penalty_flavor="power_iteration", mask=mask,
                              power_iteration_n_steps=15)
    model = model.double()
    model.power_grad.u = model.power_grad.u.double()
    model.power_grad.v = model.power_grad.v.double()
    with torch.no_grad():
        # Masked weights are 0, as they stay during training (they start at 0, get no gradient).
        w = torch.randn(d, d, h, dtype=torch.float64) * 0.5
        model.layers[0]._weight.copy_(w * torch.tensor(mask, dtype=torch.float64)[:, :, None])
    x = torch.randn(7, d, dtype=torch.float64) * 1.5
    keep = torch.ones(7, d, dtype=torch.float64)
    keep[1, 3] = 0
    keep[4, 0] = 0
    alpha, beta, gamma = 5e-4, 5e-3, 2.5
    loss = model.loss(x, alpha, beta, gamma, mask_interventions_oh=keep)
    loss.backward()
    lines = [f"d {d}", f"h {h}", f"alpha {alpha!r}", f"beta {beta!r}", f"gamma {gamma!r}",
             f"loss {loss.item()!r}",
             "mask " + " ".join(str(v) for v in mask.flatten()),
             "x " + " ".join(repr(v) for v in x.flatten().tolist()),
             "keep " + " ".join(repr(v) for v in keep.flatten().tolist())]
    for pname, p in model.named_parameters():
        if not p.requires_grad:
            continue
        # _weight [i, j, k]; biases [j, k]; heads LinearParallel weight [j, k, 1], bias [j, 1].
        lines.append(pname + " " + " ".join(repr(v) for v in p.detach().flatten().tolist()))
        lines.append("grad." + pname + " " + " ".join(repr(v) for v in p.grad.flatten().tolist()))
    with open(os.path.join(OUT, "loss_grad.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    torch.set_num_threads(1)
    if "--loss-grad-only" in sys.argv:
        loss_grad_case()
        return
    timings = []
    rng = np.random.default_rng(20231)
    # 1. observational ER2, d = 10, n = 1000.
    w, order = er_dag(rng, 10, 2.0)
    x = sample(rng, w, order, 1000)
    cols = save_dataset("er10", x, w)
    datasets = [("er10", x, ["obs"] * len(x), cols)]
    # 2. interventional: d = 6, 400 observational rows + 100 rows for each of 4 hard
    #    interventions (targets X1, X3, X4, X6).
    w, order = er_dag(rng, 6, 2.0)
    parts, labels = [sample(rng, w, order, 400)], ["obs"] * 400
    for t in [0, 2, 3, 5]:
        parts.append(sample(rng, w, order, 100, target=t))
        labels += [f"X{t + 1}"] * 100
    x = np.vstack(parts)
    cols = save_dataset("int6", x, w, labels)
    datasets.append(("int6", x, labels, cols))
    # 3. observational ER2, d = 15, n = 1000 (drawn after the others, so theirs are unchanged).
    w, order = er_dag(rng, 15, 2.0)
    x = sample(rng, w, order, 1000)
    cols = save_dataset("er15", x, w)
    datasets.append(("er15", x, ["obs"] * len(x), cols))
    # `--only NAME` runs the reference on that dataset alone (the data files are rewritten
    # identically either way) and leaves loss_grad.txt as it is.
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    if only is None:
        loss_grad_case()
    seeds = ([int(a) for a in sys.argv[sys.argv.index("--seeds") + 1:] if a.isdigit()]
             if "--seeds" in sys.argv else SEEDS)
    for name, x, labels, cols in datasets:
        if only is not None and name != only:
            continue
        for seed in seeds:
            timings.append((f"{name} seed {seed}", run_reference(name, x, labels, cols, seed)))
    with open(os.path.join(OUT, "timings.txt"), "a") as f:
        f.write(f"# sdcd {sdcd.__version__ if hasattr(sdcd, '__version__') else '0.1.4'}, "
                f"torch {torch.__version__}, numpy {np.__version__}, python {sys.version.split()[0]},"
                f" torch threads 1\n")
        for name, secs in timings:
            f.write(f"{name} {secs:.2f}\n")


if __name__ == "__main__":
    main()
