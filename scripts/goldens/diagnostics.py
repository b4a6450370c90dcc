"""ArviZ's MCMC diagnostics on fixed, seeded draws: the goldens of src/diagnostics/.

Writes tests/data/diagnostics/:
  draws_<case>.csv   one column per chain (chain_1, chain_2, ...), one row per draw
  energy.csv         per-chain energies for the E-BFMI
  reference.json     ArviZ's rhat, ess (bulk/tail/mean), mcse (mean/sd/quantile 0.05, 0.95),
                     summary statistics and bfmi, computed on the draws exactly as saved
Used by tests/golden_diagnostics.rs.

The draws are rounded to 8 significant digits before ArviZ sees them (so the files stay small
and the Rust side reads exactly what ArviZ used). Run from the repository root:
    python3 -m venv /work/venv-diag
    /work/venv-diag/bin/pip install arviz
    /work/venv-diag/bin/python scripts/goldens/diagnostics.py
"""

import json
import pathlib
import platform

import arviz as az
import numpy as np
import scipy

SEED = 20261201
OUT = pathlib.Path("tests/data/diagnostics")


def ar1(rng, chains, draws, phi, shift=None):
    """Stationary AR(1) chains with unit marginal variance."""
    x = np.empty((chains, draws))
    x[:, 0] = rng.normal(size=chains)
    noise = rng.normal(size=(chains, draws)) * np.sqrt(1 - phi**2)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    if shift is not None:
        x += np.asarray(shift)[:, None]
    return x


def cases(rng):
    c, n = 4, 500
    yield "ar1_phi09", ar1(rng, c, n, 0.9)
    yield "iid_normal", rng.normal(1.5, 2.0, size=(c, n))
    yield "student_t3", rng.standard_t(3, size=(c, n))
    # Chains centred at different places: R-hat well above 1.01.
    yield "shifted_means", ar1(rng, c, n, 0.5, shift=[0.0, 0.0, 0.7, 1.5])
    # Range below numpy's float resolution (1e-15): ArviZ's _ess short-cuts to the draw count
    # for the raw-scale ESS while the rank-based ESS still sees the variation.
    yield "almost_constant", 1e-17 * rng.normal(size=(c, n))
    yield "constant", np.full((c, n), 2.5)
    # Many ties: exercises average ranks.
    yield "poisson_ties", rng.poisson(2.0, size=(c, n)).astype(float)
    # Positive and skewed, with a slowly mixing chain.
    yield "lognormal_sticky", np.exp(ar1(rng, c, n, 0.97))
    # Odd length: split chains drop the middle draw; summary and rhat() fold differently.
    yield "odd_3x101", ar1(rng, 3, 101, 0.6)
    yield "single_chain_1x200", ar1(rng, 1, 200, 0.3)
    yield "short_4x5", rng.normal(size=(4, 5))
    yield "short_2x4", rng.normal(size=(2, 4))
    yield "trend_2x300", np.cumsum(rng.normal(size=(2, 300)), axis=1)


def num(x):
    x = float(x)
    return None if np.isnan(x) else x


def rounded(a):
    return np.array([[float(f"{v:.8g}") for v in row] for row in a])


def write_columns(path, a):
    lines = [",".join(f"chain_{k + 1}" for k in range(a.shape[0]))]
    for t in range(a.shape[1]):
        lines.append(",".join(f"{v:.8g}" for v in a[:, t]))
    path.write_text("\n".join(lines) + "\n")


def diagnostics(a):
    s = az.summary({"x": a}, round_to="none")
    m = az.summary({"x": a}, round_to="none", stat_focus="median", hdi_prob=0.9)
    return {
        "rhat": num(az.rhat(a)),
        "ess_bulk": num(az.ess(a, method="bulk")),
        "ess_tail": num(az.ess(a, method="tail")),
        "ess_mean": num(az.ess(a, method="mean")),
        "mcse_mean": num(az.mcse(a, method="mean")),
        "mcse_sd": num(az.mcse(a, method="sd")),
        "mcse_q05": num(az.mcse(a, method="quantile", prob=0.05)),
        "mcse_q95": num(az.mcse(a, method="quantile", prob=0.95)),
        "summary": {
            "mean": num(s.loc["x", "mean"]),
            "sd": num(s.loc["x", "sd"]),
            "mcse_mean": num(s.loc["x", "mcse_mean"]),
            "mcse_sd": num(s.loc["x", "mcse_sd"]),
            "ess_bulk": num(s.loc["x", "ess_bulk"]),
            "ess_tail": num(s.loc["x", "ess_tail"]),
            "r_hat": num(s.loc["x", "r_hat"]),
            "q5": num(m.loc["x", "eti_5%"]),
            "q50": num(m.loc["x", "median"]),
            "q95": num(m.loc["x", "eti_95%"]),
        },
    }


def main():
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    out_cases = []
    for name, a in cases(rng):
        a = rounded(a)
        write_columns(OUT / f"draws_{name}.csv", a)
        out_cases.append(
            {"name": name, "n_chains": a.shape[0], "n_draws": a.shape[1], **diagnostics(a)}
        )
    # Energies: two well-mixed chains, two where the energy moves slowly (low E-BFMI).
    energy = rounded(
        np.vstack([ar1(rng, 2, 500, 0.2) * 3 + 20, ar1(rng, 2, 500, 0.95) * 3 + 20])
    )
    write_columns(OUT / "energy.csv", energy)
    out = {
        "seed": SEED,
        "cases": out_cases,
        "bfmi": [num(v) for v in az.bfmi(energy)],
        "versions": {
            "python": platform.python_version(),
            "arviz": az.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
    }
    (OUT / "reference.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({c["name"]: [c["rhat"], c["ess_bulk"], c["ess_tail"]] for c in out_cases}))


if __name__ == "__main__":
    main()
