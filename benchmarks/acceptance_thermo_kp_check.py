"""Issue 17: do the network runs' K-pairwise fits, stopped at 300 L-BFGS-B iterations from the
pairwise fit, give the same thermodynamics as fits run to convergence? Refits the K-pairwise
model of the lif_mpred=0.9 network's words (the nulls' base) at N = 40 and 80 with up to 3000
iterations (everything else as in ``acceptance_thermo.py network --fast --T 20000``) and records
the result next to the run's.

    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo_kp_check.py [--out FILE]

``results/acceptance_thermo_kp_check.json`` is the record made before the K-pairwise optimiser
changed (``results/acceptance_thermo.md`` quotes it, superseded by the converged refits): a
rerun, with today's optimiser, writes ``acceptance_thermo_kp_check_rerun.json`` unless ``--out``
says otherwise (it overwrote that record).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from acceptance_thermo import NULL_BASE, OUT, _dataset, _split, analyse

LABEL, T, SEED, NS = NULL_BASE, 20000, 0, (40, 80)


def main(out_path: Path) -> None:
    run = json.loads((OUT / f"acceptance_thermo_network_{LABEL}.json").read_text())
    X, _ = _dataset(LABEL, T, SEED)
    out: dict = {"label": LABEL, "T": T, "maxiter": 3000, "sizes": {}}
    for N in NS:
        t0 = time.perf_counter()
        res = analyse(
            *_split(X[:, :N], SEED),
            SEED,
            True,
            "pl",
            kinds=("k_pairwise",),
            maxiter={"pairwise": 500, "k_pairwise": 3000},
        )
        short = run["subsets"][str(N)]["k_pairwise"]
        out["sizes"][str(N)] = {
            "long": res["k_pairwise"],
            "run": {
                k: short[k]
                for k in (
                    "n_iterations",
                    "converged",
                    "heat_capacity",
                    "gain_bits_per_unit",
                    "pk_tv",
                    "entropy_bits_per_unit",
                )
            },
        }
        print(f"N={N} done in {time.perf_counter() - t0:.0f}s", flush=True)
        out_path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=OUT / "acceptance_thermo_kp_check_rerun.json")
    main(parser.parse_args().out)
