"""CLV fits against the ``lifetimes`` package: BG/NBD, Gamma-Gamma (and Pareto/NBD on CDNOW), same data, one run.

Data: the CDNOW cohort of Fader, Hardie & Lee (2,357 customers, ../shared/datasets/cdnow-btyd) and a simulated
population of 1,000,000 customers with distinct histories drawn from BG/NBD and Gamma-Gamma at the CDNOW
parameters, at day resolution (ages of 1 to 546 days, recency in whole days, times in weeks), as a summary built
from a dated transaction log would be. lifetimes runs in its own virtual environment (benchmarks/.venv-lifetimes,
created with ``pip install lifetimes`` when missing; it is not a dependency of Pulso) as a subprocess, and is given
the rows as its quick-start does (one per customer); Pulso's time includes its input checks and building the
design (distinct values, rows sorted by x).

Each Pulso fit is timed ``--repeat`` times and the median kept; lifetimes is timed once at 1M (about 12 s) and
``--repeat`` times on CDNOW. Parameters are compared before any ratio is printed: the target is 1e-4 relative.
lifetimes' Pareto/NBD stops at Nelder-Mead's tolerance 1e-4 from a random start (seeded per run here), so on
CDNOW it is also fitted with tol=1e-12, and its own log-likelihood is evaluated at both optima.

    .venv/bin/python benchmarks/clv.py [--customers 1000000] [--repeat 3]

Output: ``BENCH <name> <value> <unit>`` lines; ``<name>_vs_lifetimes`` is lifetimes' time over ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from pulso.ml.clv.bgnbd import BetaGeoModel  # noqa: E402
from pulso.ml.clv.bgnbd import log_likelihood as bgnbd_log_likelihood  # noqa: E402
from pulso.ml.clv.gamma_gamma import GammaGammaModel  # noqa: E402
from pulso.ml.clv.gamma_gamma import log_likelihood as spend_model_log_likelihood  # noqa: E402
from pulso.ml.clv.pareto_nbd import ParetoNBDModel  # noqa: E402
from pulso.ml.clv.simulate import simulate_bgnbd, simulate_spend  # noqa: E402

VENV = HERE / ".venv-lifetimes"
DATA = HERE / ".data"
CDNOW = HERE.parent.parent / "shared" / "datasets" / "cdnow-btyd"

LIFETIMES_SCRIPT = """
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.utils import _scale_time
data = np.load(sys.argv[1])
repeat, models = int(sys.argv[2]), sys.argv[3].split(",")
x, t_x, T, m = data["x"], data["t_x"], data["T"], data["m"]
out = {}
def timed(name, make, fit, keys, times=repeat):
    seconds, cpu, params = [], [], []
    for run in range(times):
        np.random.seed(run)  # lifetimes' Pareto/NBD starts from a random point
        model = make()
        start, start_cpu = time.perf_counter(), time.process_time()
        fit(model)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        params.append([float(model.params_[k]) for k in keys])
    middle = len(seconds) // 2
    out[name] = {
        "seconds": sorted(seconds)[middle], "cpu": sorted(cpu)[middle], "params": params[-1], "all_params": params
    }
def pareto_log_likelihood(params):
    # lifetimes' own formula, on its rescaled times; rescaling times by c changes the log-likelihood by -sum(x) ln c
    scale = _scale_time(T)
    r, alpha, s, beta = params
    scaled = [r, alpha * scale, s, beta * scale]
    value = ParetoNBDFitter._conditional_log_likelihood(scaled, x.astype(int), t_x * scale, T * scale).sum()
    return float(value + x.sum() * np.log(scale))
if "bgnbd" in models:
    timed("bgnbd", BetaGeoFitter, lambda f: f.fit(x, t_x, T), ["r", "alpha", "a", "b"])
if "gg" in models:
    keep = (x > 0) & (m > 0)
    start = np.log([1.0, 2.0, m[keep].mean()])  # Pulso's start; from lifetimes' default it fails to converge at 1M
    timed("gg", GammaGammaFitter, lambda f: f.fit(x[keep], m[keep], initial_params=start), ["p", "q", "v"])
if "pnbd" in models:
    keys = ["r", "alpha", "s", "beta"]
    timed("pnbd", ParetoNBDFitter, lambda f: f.fit(x, t_x, T), keys)  # its defaults: Nelder-Mead, tol 1e-4
    out["pnbd"]["log_likelihoods"] = [pareto_log_likelihood(p) for p in out["pnbd"]["all_params"]]
    tight = lambda f: f.fit(x, t_x, T, tol=1e-12, maxiter=50000)
    timed("pnbd_tight", ParetoNBDFitter, tight, keys, times=1)
    out["pnbd_tight"]["log_likelihoods"] = [pareto_log_likelihood(out["pnbd_tight"]["params"])]
if "pnbd_at" in sys.argv[4:5]:
    out["pnbd_at"] = pareto_log_likelihood([float(v) for v in sys.argv[5].split(",")])
print(json.dumps(out))
"""


def ensure_lifetimes() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with lifetimes (benchmark only)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "lifetimes"], check=True)
    return python


def run_lifetimes(python: Path, data: Path, repeat: int, models: str, *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), "-c", LIFETIMES_SCRIPT, str(data), str(repeat), models, *extra], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"lifetimes failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def median_seconds(fit: Callable[[], object], repeat: int) -> tuple[tuple[float, float], Any]:
    """Median wall-clock and CPU seconds of ``repeat`` fits, and the last model. The CPU time of this process
    (all its threads) is the steadier figure when other work shares the machine."""
    times, cpu, model = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        model = fit()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (statistics.median(times), statistics.median(cpu)), model


def relative_difference(mine: np.ndarray, other: list[float]) -> float:
    theirs = np.array(other, dtype=np.float64)
    return float(np.max(np.abs(mine - theirs) / np.abs(theirs)))


def compare(
    name: str,
    ours: tuple[tuple[float, float], Any],
    keys: list[str],
    theirs: dict[str, Any],
    log_likelihood: Callable[..., float] | None = None,
) -> float:
    """Parameters, times and ratios; with ``log_likelihood`` (Pulso's formula, summed), its value at both
    parameter sets, to show which is the higher."""
    (seconds, cpu), model = ours
    mine = np.array([getattr(model, f"{key}_") for key in keys])
    difference = relative_difference(mine, theirs["params"])
    their_seconds = float(theirs["seconds"])
    shown = ", ".join(f"{k}={a:.6g}/{b:.6g}" for k, a, b in zip(keys, mine, theirs["params"], strict=True))
    print(f"# {name}: pulso/lifetimes {shown}; max relative difference {difference:.2e}")
    if difference > 1e-4:
        print(f"# WARNING {name}: parameters differ by more than 1e-4 relative")
    if log_likelihood is not None:
        at_ours, at_theirs = log_likelihood(*mine), log_likelihood(*theirs["params"])
        print(
            f"# {name}: log-likelihood at pulso's parameters {at_ours:.6f}, at lifetimes' {at_theirs:.6f} "
            f"(pulso's minus lifetimes': {at_ours - at_theirs:+.1e})"
        )
    print(f"BENCH {name}_fit {seconds:.4f} s")
    print(f"BENCH {name}_lifetimes_fit {their_seconds:.4f} s")
    print(f"BENCH {name}_vs_lifetimes {their_seconds / seconds:.1f} x")
    print(f"BENCH {name}_fit_cpu {cpu:.4f} s")
    print(f"BENCH {name}_lifetimes_fit_cpu {float(theirs['cpu']):.4f} s")
    print(f"BENCH {name}_vs_lifetimes_cpu {float(theirs['cpu']) / cpu:.1f} x")
    print(f"BENCH {name}_max_param_rel_diff {difference:.2e} rel")
    return difference


def purchases_log_likelihood(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> Callable[..., float]:
    return lambda *params: float(bgnbd_log_likelihood(*params, x, t_x, age).sum())


def spend_log_likelihood(x: np.ndarray, m: np.ndarray) -> Callable[..., float]:
    keep = (x > 0) & (m > 0)
    return lambda *params: float(spend_model_log_likelihood(*params, x[keep], m[keep]).sum())


def pareto_optima(model: Any, theirs: dict[str, Any], tight: dict[str, Any], at_ours: float) -> None:
    """Which optimum is the maximum: lifetimes' own log-likelihood at its default fits (Nelder-Mead, tol 1e-4, from
    a random start; one per seed), at its fit with tol 1e-12, and at Pulso's optimum."""
    mine = np.array([model.r_, model.alpha_, model.s_, model.beta_])
    defaults = [relative_difference(mine, p) for p in theirs["all_params"]]
    shortfalls = [at_ours - value for value in theirs["log_likelihoods"]]
    print(
        f"# Pareto/NBD, lifetimes' own log-likelihood: at pulso's optimum {at_ours:.7f} (pulso's formula: "
        f"{model.log_likelihood_:.7f}); at lifetimes' default fits (random starts, seeds 0 to {len(defaults) - 1}) "
        f"{', '.join(f'{v:.7f}' for v in theirs['log_likelihoods'])}: lower by "
        f"{min(shortfalls):.1e} to {max(shortfalls):.1e}, parameters {min(defaults):.1e} to {max(defaults):.1e} away"
    )
    tight_difference = relative_difference(mine, tight["params"])
    tight_value = tight["log_likelihoods"][0]
    print(
        f"# with tol=1e-12 lifetimes reaches {tight_value:.7f} ({tight_value - at_ours:+.1e} from pulso's) in "
        f"{tight['seconds']:.2f} s, parameters {tight_difference:.1e} from pulso's"
    )
    print(f"BENCH clv_pareto_nbd_cdnow_tight_max_param_rel_diff {tight_difference:.2e} rel")


def cdnow(python: Path, repeat: int) -> None:
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    x, t_x, T, m = (summary[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "T", "zbar"))
    path = DATA / "clv_cdnow.npz"
    np.savez(path, x=x, t_x=t_x, T=T, m=m)
    theirs = run_lifetimes(python, path, repeat, "bgnbd,gg,pnbd")
    keys = ["r", "alpha", "a", "b"]
    ours = median_seconds(lambda: BetaGeoModel().fit(x, t_x, T), repeat)
    compare("clv_bgnbd_cdnow", ours, keys, theirs["bgnbd"], purchases_log_likelihood(x, t_x, T))
    ours = median_seconds(lambda: GammaGammaModel().fit(x, m), repeat)
    compare("clv_gamma_gamma_cdnow", ours, ["p", "q", "gamma"], theirs["gg"], spend_log_likelihood(x, m))
    ours = median_seconds(lambda: ParetoNBDModel().fit(x, t_x, T), repeat)
    compare("clv_pareto_nbd_cdnow", ours, ["r", "alpha", "s", "beta"], theirs["pnbd"])
    model = ours[1]
    params = ",".join(repr(v) for v in (model.r_, model.alpha_, model.s_, model.beta_))
    at_ours = float(run_lifetimes(python, path, 1, "", "pnbd_at", params)["pnbd_at"])
    pareto_optima(model, theirs["pnbd"], theirs["pnbd_tight"], at_ours)


def simulated(python: Path, customers: int, repeat: int) -> None:
    rng = np.random.default_rng(20261123)
    T = rng.integers(1, 547, customers) / 7.0
    x, t_x = simulate_bgnbd(0.243, 4.414, 0.793, 2.426, T, rng, days_per_unit=7.0)
    m = simulate_spend(6.25, 3.74, 15.44, x, rng)
    path = DATA / f"clv_sim_{customers}.npz"
    np.savez(path, x=x, t_x=t_x, T=T, m=m)
    distinct = len(pd.DataFrame({"x": x, "t": t_x, "T": T}).drop_duplicates())
    print(
        f"# simulated: {customers:,} customers, {int((x > 0).sum()):,} repeat buyers, {distinct:,} distinct (x, t_x, T)"
    )
    theirs = run_lifetimes(python, path, 1, "bgnbd,gg")
    label = f"clv_bgnbd_{customers // 1000}k" if customers < 1_000_000 else f"clv_bgnbd_{customers // 1_000_000}m"
    ours = median_seconds(lambda: BetaGeoModel().fit(x, t_x, T), repeat)
    compare(label, ours, ["r", "alpha", "a", "b"], theirs["bgnbd"], purchases_log_likelihood(x, t_x, T))
    (seconds, _), _ = median_seconds(lambda: BetaGeoModel(compress_rows=False).fit(x, t_x, T), repeat)
    print(f"BENCH {label}_uncompressed_fit {seconds:.4f} s")
    ours = median_seconds(lambda: GammaGammaModel().fit(x, m), repeat)
    compare(label.replace("bgnbd", "gamma_gamma"), ours, ["p", "q", "gamma"], theirs["gg"], spend_log_likelihood(x, m))
    # Pareto/NBD: Pulso only (lifetimes' Pareto/NBD at this size takes minutes)
    (seconds, cpu), model = median_seconds(lambda: ParetoNBDModel().fit(x, t_x, T), 1)
    print(f"# {label.replace('bgnbd', 'pareto_nbd')}: {model.params_}")
    print(f"BENCH {label.replace('bgnbd', 'pareto_nbd')}_fit {seconds:.4f} s")
    print(f"BENCH {label.replace('bgnbd', 'pareto_nbd')}_fit_cpu {cpu:.4f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    python = ensure_lifetimes()
    cdnow(python, args.repeat)
    simulated(python, args.customers, args.repeat)


if __name__ == "__main__":
    main()
