"""Reference posterior of the non-centred eight-schools model from PyMC's NUTS.

Writes tests/data/nuts_eight_schools/reference.json: posterior mean, sd and their Monte Carlo
standard errors (ArviZ) for mu, tau and theta[1..8], the bulk ESS, divergences and PyMC's own
sampling time, for tests/golden_nuts_eight_schools.rs (accuracy) and for the ESS/s comparison
the project's performance goal is stated against.

Run from the repository root:
    python3 -m venv /work/venv-bayes-samplers
    /work/venv-bayes-samplers/bin/pip install pymc==5.28.5 arviz
    /work/venv-bayes-samplers/bin/python scripts/goldens/nuts_eight_schools.py
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm

SEED = 20240611
CHAINS = 4
TUNE = 1000
DRAWS = 5000

# Rubin (1981), as in the Stan and PyMC documentation.
Y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]
SIGMA = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]


def main():
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, shape=8)
        theta = pm.Deterministic("theta", mu + tau * theta_tilde)
        pm.Normal("y", theta, np.array(SIGMA), observed=np.array(Y))
        idata = pm.sample(
            draws=DRAWS,
            tune=TUNE,
            chains=CHAINS,
            cores=1,
            random_seed=SEED,
            target_accept=0.8,
            nuts_sampler="pymc",
            progressbar=False,
        )
    post = idata.posterior
    names, means, sds, mcse_mean, mcse_sd, ess_bulk = [], [], [], [], [], []
    summary = az.summary(idata, var_names=["mu", "tau", "theta"], round_to="none")
    for label, row in summary.iterrows():
        # ArviZ labels theta[0]..theta[7]; the Rust side uses 1-based names.
        if label.startswith("theta["):
            label = f"theta[{int(label[6:-1]) + 1}]"
        names.append(label)
        means.append(float(row["mean"]))
        sds.append(float(row["sd"]))
        mcse_mean.append(float(row["mcse_mean"]))
        mcse_sd.append(float(row["mcse_sd"]))
        ess_bulk.append(float(row["ess_bulk"]))
    out = {
        "model": "eight schools, non-centred: mu ~ N(0, 5), tau ~ HalfCauchy(5), "
        "theta_tilde ~ N(0, 1), theta = mu + tau * theta_tilde, y ~ N(theta, sigma)",
        "y": Y,
        "sigma": SIGMA,
        "params": names,
        "mean": means,
        "sd": sds,
        "mcse_mean": mcse_mean,
        "mcse_sd": mcse_sd,
        "ess_bulk": ess_bulk,
        "n_divergent": int(idata.sample_stats["diverging"].sum()),
        "mean_tree_depth": float(idata.sample_stats["tree_depth"].mean()),
        "mean_n_leapfrog": float(idata.sample_stats["n_steps"].mean()),
        "mean_step_size": float(idata.sample_stats["step_size"].mean()),
        "sampling_time_s": float(post.attrs.get("sampling_time", float("nan"))),
        "chains": CHAINS,
        "tune": TUNE,
        "draws": DRAWS,
        "seed": SEED,
        "versions": {"pymc": pm.__version__, "arviz": az.__version__, "numpy": np.__version__},
    }
    path = pathlib.Path("tests/data/nuts_eight_schools/reference.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: out[k] for k in ("params", "mean", "ess_bulk", "sampling_time_s")}))


if __name__ == "__main__":
    main()
