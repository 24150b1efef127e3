"""CLV fits against the ``lifetimes`` package: BG/NBD, Gamma-Gamma (and Pareto/NBD on CDNOW), same data, one run.

Data: the CDNOW cohort of Fader, Hardie & Lee (2,357 customers, ../shared/datasets/cdnow-btyd) and a simulated
population of 1,000,000 customers with distinct histories drawn from BG/NBD and Gamma-Gamma at the CDNOW
parameters, at day resolution (ages of 1 to 546 days, recency in whole days, times in weeks), as a summary built
from a dated transaction log would be. lifetimes runs in its own virtual environment (benchmarks/.venv-lifetimes,
created with ``pip install lifetimes`` when missing; it is not a dependency of Pulso) as a subprocess, and is given
the rows as its quick-start does (one per customer); Pulso's time includes compressing identical rows.

Each Pulso fit is timed ``--repeat`` times and the median kept; lifetimes is timed once at 1M (about 12 s) and
``--repeat`` times on CDNOW. Parameters are compared before any ratio is printed: the target is 1e-4 relative.

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

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from pulso.ml.clv.bgnbd import BetaGeoModel  # noqa: E402
from pulso.ml.clv.gamma_gamma import GammaGammaModel  # noqa: E402
from pulso.ml.clv.pareto_nbd import ParetoNBDModel  # noqa: E402
from pulso.ml.clv.pareto_nbd import log_likelihood as pareto_log_likelihood  # noqa: E402
from pulso.ml.clv.simulate import simulate_bgnbd, simulate_spend  # noqa: E402

VENV = HERE / ".venv-lifetimes"
DATA = HERE / ".data"
CDNOW = HERE.parent.parent / "shared" / "datasets" / "cdnow-btyd"

LIFETIMES_SCRIPT = """
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
data = np.load(sys.argv[1])
repeat, models = int(sys.argv[2]), sys.argv[3].split(",")
x, t_x, T, m = data["x"], data["t_x"], data["T"], data["m"]
out = {}
def timed(name, make, fit, keys):
    times = []
    for _ in range(repeat):
        model = make()
        start = time.perf_counter()
        fit(model)
        times.append(time.perf_counter() - start)
    out[name] = {"seconds": sorted(times)[len(times) // 2], "params": [float(model.params_[k]) for k in keys]}
if "bgnbd" in models:
    timed("bgnbd", BetaGeoFitter, lambda f: f.fit(x, t_x, T), ["r", "alpha", "a", "b"])
if "gg" in models:
    keep = (x > 0) & (m > 0)
    start = np.log([1.0, 2.0, m[keep].mean()])  # Pulso's start; from lifetimes' default it fails to converge at 1M
    timed("gg", GammaGammaFitter, lambda f: f.fit(x[keep], m[keep], initial_params=start), ["p", "q", "v"])
if "pnbd" in models:
    timed("pnbd", ParetoNBDFitter, lambda f: f.fit(x, t_x, T), ["r", "alpha", "s", "beta"])
print(json.dumps(out))
"""


def ensure_lifetimes() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with lifetimes (benchmark only)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "lifetimes"], check=True)
    return python


def run_lifetimes(python: Path, data: Path, repeat: int, models: str) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [str(python), "-c", LIFETIMES_SCRIPT, str(data), str(repeat), models], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"lifetimes failed:\n{done.stderr[-3000:]}")
    result: dict[str, dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def median_seconds(fit: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, model = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times), model


def compare(name: str, ours: tuple[float, object], keys: list[str], theirs: dict[str, object]) -> float:
    seconds, model = ours
    mine = np.array([getattr(model, f"{key}_") for key in keys])
    other = np.array(theirs["params"], dtype=np.float64)
    difference = float(np.max(np.abs(mine - other) / np.abs(other)))
    their_seconds = float(theirs["seconds"])  # type: ignore[arg-type]
    shown = ", ".join(f"{k}={a:.6g}/{b:.6g}" for k, a, b in zip(keys, mine, other, strict=True))
    print(f"# {name}: pulso/lifetimes {shown}; max relative difference {difference:.2e}")
    if difference > 1e-4:
        print(f"# WARNING {name}: parameters differ by more than 1e-4 relative")
    print(f"BENCH {name}_fit {seconds:.4f} s")
    print(f"BENCH {name}_lifetimes_fit {their_seconds:.4f} s")
    print(f"BENCH {name}_vs_lifetimes {their_seconds / seconds:.1f} x")
    print(f"BENCH {name}_max_param_rel_diff {difference:.2e} rel")
    return difference


def cdnow(python: Path, repeat: int) -> None:
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    x, t_x, T, m = (summary[c].to_numpy(dtype=np.float64) for c in ("x", "t_x", "T", "zbar"))
    path = DATA / "clv_cdnow.npz"
    np.savez(path, x=x, t_x=t_x, T=T, m=m)
    theirs = run_lifetimes(python, path, repeat, "bgnbd,gg,pnbd")
    keys = ["r", "alpha", "a", "b"]
    compare("clv_bgnbd_cdnow", median_seconds(lambda: BetaGeoModel().fit(x, t_x, T), repeat), keys, theirs["bgnbd"])
    ours = median_seconds(lambda: GammaGammaModel().fit(x, m), repeat)
    compare("clv_gamma_gamma_cdnow", ours, ["p", "q", "gamma"], theirs["gg"])
    ours = median_seconds(lambda: ParetoNBDModel().fit(x, t_x, T), repeat)
    compare("clv_pareto_nbd_cdnow", ours, ["r", "alpha", "s", "beta"], theirs["pnbd"])
    # the Pareto/NBD likelihood is flat along s and beta: compare the log-likelihoods the two optima reach
    r, alpha, s, beta = (float(v) for v in theirs["pnbd"]["params"])  # type: ignore[union-attr]
    at_theirs = float(pareto_log_likelihood(r, alpha, s, beta, x, t_x, T).sum())
    print(
        f"# Pareto/NBD log-likelihood at pulso's optimum {ours[1].log_likelihood_:.7f}, at lifetimes' {at_theirs:.7f}"
    )  # type: ignore[attr-defined]


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
    compare(label, ours, ["r", "alpha", "a", "b"], theirs["bgnbd"])
    seconds, _ = median_seconds(lambda: BetaGeoModel(compress_rows=False).fit(x, t_x, T), repeat)
    print(f"BENCH {label}_uncompressed_fit {seconds:.4f} s")
    ours = median_seconds(lambda: GammaGammaModel().fit(x, m), repeat)
    compare(label.replace("bgnbd", "gamma_gamma"), ours, ["p", "q", "gamma"], theirs["gg"])
    # Pareto/NBD: Pulso only (lifetimes' Pareto/NBD at this size takes minutes)
    seconds, model = median_seconds(lambda: ParetoNBDModel().fit(x, t_x, T), 1)
    print(f"# {label.replace('bgnbd', 'pareto_nbd')}: {model.params_}")  # type: ignore[attr-defined]
    print(f"BENCH {label.replace('bgnbd', 'pareto_nbd')}_fit {seconds:.4f} s")


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
