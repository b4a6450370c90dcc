"""Golden CPDAGs for PC and GES from causal-learn on seeded linear-Gaussian datasets and on the
Sachs observational data.

Run from the repository root in a venv with the reference installed:
    python -m venv venv && venv/bin/pip install causal-learn==0.1.4.8 pandas
    venv/bin/python scripts/goldens/pc_ges.py [--no-d50]
Writes tests/data/pc_ges/*.csv and timings.txt (under a minute, plus a release build of the
`probe_pc_ges` example for the d = 50 case, whose data come from Causeway's own seeded
generator so that only the reference CPDAGs need to be stored).

Each dataset is written with 6 significant digits and READ BACK before the reference runs, so
the Rust tests and the reference see exactly the same numbers. CPDAGs are d x d 0/1 matrices in
Causeway's two-way convention: m[i][j] = 1 for i -> j and for i -- j (both m[i][j] and m[j][i]).
"""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

import causallearn
from causallearn.graph.GraphNode import GraphNode
from causallearn.search.ConstraintBased.PC import pc
from causallearn.search.ScoreBased.GES import ges
from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "data", "pc_ges")
os.makedirs(OUT, exist_ok=True)


def er_dag(rng, d, degree):
    """Erdos-Renyi DAG in a random causal order, weights +-U(0.5, 2) (as src/data/synthetic.rs)."""
    order = rng.permutation(d)
    p = degree / (d - 1)
    w = np.zeros((d, d))
    for a in range(d):
        for b in range(a + 1, d):
            if rng.random() < p:
                w[order[a], order[b]] = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)
    return w, order


def sample(rng, w, order, n):
    """Linear-Gaussian rows X_j = sum_i W_ij X_i + N(0, 1)."""
    x = np.zeros((n, w.shape[0]))
    for j in order:
        x[:, j] = x @ w[:, j] + rng.standard_normal(n)
    return x


def to_two_way(graph):
    """causal-learn's endpoint matrix (graph[j,i]=1, graph[i,j]=-1 for i -> j; both -1 for
    i -- j) to the two-way 0/1 convention."""
    d = graph.shape[0]
    m = np.zeros((d, d), dtype=int)
    for i in range(d):
        for j in range(d):
            if i != j and graph[i, j] == -1 and graph[j, i] in (1, -1):
                m[i, j] = 1
            if i != j and graph[i, j] == 1 and graph[j, i] == 1:
                raise ValueError(f"bidirected edge {i} <-> {j} in a reference output")
    return m


def save_matrix(name, m):
    np.savetxt(os.path.join(OUT, name), m, fmt="%d", delimiter=",")


def run_reference(tag, x, timings, knowledge=None):
    t0 = time.perf_counter()
    cg = pc(x, 0.05, "fisherz", stable=True, uc_rule=0, uc_priority=2, show_progress=False)
    t_pc = time.perf_counter() - t0
    save_matrix(f"{tag}_pc.csv", to_two_way(cg.G.graph))
    t0 = time.perf_counter()
    rec = ges(x, score_func="local_score_BIC", parameters={"lambda_value": 0.5})
    t_ges = time.perf_counter() - t0
    save_matrix(f"{tag}_ges.csv", to_two_way(rec["G"].graph))
    timings.append(f"{tag}: pc {t_pc:.3f} s, ges {t_ges:.3f} s (n = {x.shape[0]}, d = {x.shape[1]})")
    if knowledge is not None:
        bk = BackgroundKnowledge()
        nodes = [GraphNode(f"X{i + 1}") for i in range(x.shape[1])]
        for a, b in knowledge["forbidden"]:
            bk.add_forbidden_by_node(nodes[a], nodes[b])
        for a, b in knowledge["required"]:
            bk.add_required_by_node(nodes[a], nodes[b])
        for node, tier in enumerate(knowledge.get("tiers", [])):
            bk.add_node_to_tier(nodes[node], tier)
        cg = pc(x, 0.05, "fisherz", stable=True, uc_rule=0, uc_priority=2,
                background_knowledge=bk, show_progress=False)
        save_matrix(f"{tag}_pc_knowledge.csv", to_two_way(cg.G.graph))
        with open(os.path.join(OUT, f"{tag}_knowledge.txt"), "w") as f:
            for a, b in knowledge["forbidden"]:
                f.write(f"forbidden {a} {b}\n")
            for a, b in knowledge["required"]:
                f.write(f"required {a} {b}\n")
            for node, tier in enumerate(knowledge.get("tiers", [])):
                f.write(f"tier {node} {tier}\n")


def main():
    timings = []
    specs = [
        ("er8", 8, 500, 101, 2.0),
        ("er10", 10, 1000, 202, 2.0),
        ("er15", 15, 700, 303, 2.0),
        # Denser (ER4) with fewer rows: more conflicting colliders and larger operator sets.
        ("er12d4", 12, 400, 404, 4.0),
    ]
    for tag, d, n, seed, degree in specs:
        rng = np.random.default_rng(seed)
        w, order = er_dag(rng, d, degree)
        x = sample(rng, w, order, n)
        path = os.path.join(OUT, f"{tag}_data.csv")
        pd.DataFrame(x, columns=[f"X{j + 1}" for j in range(d)]).to_csv(
            path, index=False, float_format="%.6g")
        x = pd.read_csv(path).to_numpy(dtype=float)
        save_matrix(f"{tag}_truth.csv", (w != 0).astype(int))
        knowledge = None
        if tag == "er10":
            # Two truth edges forbidden both ways, one in one direction, one required.
            edges = [(int(i), int(j)) for i, j in zip(*np.nonzero(w))]
            knowledge = {
                "forbidden": [edges[0], edges[0][::-1], edges[1], edges[1][::-1], edges[2][::-1]],
                "required": [edges[3]],
            }
        if tag == "er15":
            # Three tiers along the true causal order (so the truth obeys them).
            tiers = [0] * d
            for pos, node in enumerate(order):
                tiers[node] = 3 * pos // d
            knowledge = {"forbidden": [], "required": [], "tiers": tiers}
        run_reference(tag, x, timings, knowledge)
    # Sachs et al. (2005), observational rows only, unstandardized (Fisher z and BIC score
    # differences are scale-invariant, so standardizing would not change the graphs).
    sachs = pd.read_csv(os.path.join(ROOT, "static", "data", "sachs_observational.csv"))
    run_reference("sachs", sachs.to_numpy(dtype=float), timings)
    if "--no-d50" not in sys.argv:
        # d = 50, n = 1000: src/data/synthetic.rs with seed 5 (ER2), written by the probe with
        # shortest round-trip formatting, so the test can regenerate the same numbers.
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "er50.csv")
            subprocess.run(["cargo", "run", "--release", "--quiet", "--example", "probe_pc_ges",
                            "--", "50", "1000", "5", "--write", path], check=True, cwd=ROOT)
            x = pd.read_csv(path).to_numpy(dtype=float)
        run_reference("er50", x, timings)
    with open(os.path.join(OUT, "timings.txt"), "w") as f:
        f.write(f"causal-learn {causallearn.__version__ if hasattr(causallearn, '__version__') else '0.1.4.8'}, "
                f"numpy {np.__version__}, single process on a shared 2-core machine\n")
        f.write("\n".join(timings) + "\n")
    print("\n".join(timings))


if __name__ == "__main__":
    main()
