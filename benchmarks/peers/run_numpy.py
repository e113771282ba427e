"""Peer: the plain NumPy dense loop (float64, one BLAS thread).

Per step one dense (1 x n) @ (n x n) product for the recurrent input and one (1 x n_in) @
(n_in x n) for the input; the equations are those of ``common.py``.
"""

from __future__ import annotations

import numpy as np
from common import emit, load_case, parser, save_spikes, timed


def simulate(case: dict) -> tuple[np.ndarray, np.ndarray]:
    w_in, w_rec, x = case["w_in"], case["w_rec"], case["x"].astype(np.float64)
    alpha, v_th = case["alpha"], case["v_th"]
    n = w_rec.shape[0]
    v = np.zeros(n)
    z = np.zeros(n)
    raster = np.zeros((x.shape[0], n), dtype=bool)
    for t in range(x.shape[0]):
        v = alpha * v + z @ w_rec + x[t] @ w_in - v_th * z
        spk = v > v_th
        z = spk.astype(np.float64)
        raster[t] = spk
    return np.nonzero(raster)


def main() -> None:
    args = parser(__doc__).parse_args()
    case = load_case(args.case)
    wall, cpu = [], []
    for _ in range(args.repeats):
        (times, units), w, c = timed(lambda: simulate(case))
        wall.append(w)
        cpu.append(c)
    save_spikes(args.spikes_out, times, units)
    emit("NumPy dense loop (float64)", case["x"].shape[0], wall, cpu, n_spikes=int(times.size))


if __name__ == "__main__":
    main()
