"""Peak memory and time of the binary all-pairs mutual information (issue 13, stop 37).

``pairwise_mutual_information`` forms the matrix in blocks of rows
(``infodyn.information.measures.PAIRWISE_BLOCK_CELLS``); before, it formed about 17 n x n float64
arrays at once. Run against this tree and against an older one (a worktree of 096c6b4) to
compare; one thread for BLAS, medians of 3 runs after a warm one, peak by tracemalloc::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=src \\
        .venv/bin/python benchmarks/pairwise_mi_memory.py
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np
from harness import no_options

from infodyn.information import pairwise_mutual_information


def main() -> None:
    for n_samples, n in ((1000, 2000), (1000, 4000)):
        a = (np.random.default_rng(0).random((n_samples, n)) < 0.1).astype(np.uint8)
        pairwise_mutual_information(a)  # warm
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            pairwise_mutual_information(a)
            times.append(time.perf_counter() - t0)
        tracemalloc.start()
        pairwise_mutual_information(a)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        median = statistics.median(times)
        print(f"{n_samples} x {n}: peak {peak / 2**20:.0f} MiB, median {median:.2f} s")


if __name__ == "__main__":
    no_options(__doc__)
    main()
