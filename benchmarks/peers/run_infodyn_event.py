"""infodyn's event-driven engine (Numba, float64, one thread) on the benchmark case.

Times :func:`infodyn.network.engine_event.run_event_chunk`, the loop behind
``simulate(engine="event")`` and ``simulate_to_file``, with spikes collected sparsely through its
``on_spikes`` callback (no dense raster). Numba's compilation is cached on disk and a short
warm-up run precedes the timed repeats. The weights are prepared for the engine once, before
the timed runs (:func:`~infodyn.network.engine_event.event_weights`: float32 rows of the
exact-float32 weights, about 1 ms), as ``simulate_to_file`` prepares them once for all its
chunks; the timed region is the simulation itself, as Brian2's build and compilation are
outside its timer.
"""

from __future__ import annotations

import json

import numpy as np
from common import emit, load_case, parser, save_spikes, timed

from infodyn.network import LIF
from infodyn.network.engine_event import EventState, EventWeights, event_weights, run_event_chunk


def network(case: dict) -> tuple[LIF, dict[str, np.ndarray]]:
    """The infodyn network config and weights stored in the case."""
    net = LIF(**json.loads(str(case["net_json"])))
    n_out = net.n_out
    params = {"w_in": case["w_in"], "w_rec": case["w_rec"], "w_out": np.zeros((net.n_rec, n_out))}
    return net, params


def simulate(
    net: LIF, params: dict, x: np.ndarray, weights: EventWeights
) -> tuple[np.ndarray, np.ndarray]:
    state = EventState.zeros(net.n_rec, net.n_out)
    times, units = [], []

    def collect(t: np.ndarray, u: np.ndarray) -> None:
        times.append(t.copy())
        units.append(u)

    run_event_chunk(net, params, x, state, record=False, on_spikes=collect, weights=weights)
    return np.concatenate(times or [np.zeros(0, np.int64)]), np.concatenate(
        units or [np.zeros(0, np.int32)]
    )


def main() -> None:
    args = parser(__doc__).parse_args()
    case = load_case(args.case)
    net, params = network(case)
    x = np.ascontiguousarray(case["x"], dtype=np.float64)
    weights = event_weights(params)  # once, untimed (module docstring)
    _, first_wall, _ = timed(lambda: simulate(net, params, x[:100], weights))
    wall, cpu = [], []
    for _ in range(args.repeats):
        (times, units), w, c = timed(lambda: simulate(net, params, x, weights))
        wall.append(w)
        cpu.append(c)
    save_spikes(args.spikes_out, times, units)
    rows = "float32 rows, float64 sums" if weights.float32_rows else "float64"
    emit(
        f"infodyn event engine (Numba, {rows})",
        x.shape[0],
        wall,
        cpu,
        n_spikes=int(times.size),
        first_call_s=first_wall,
    )


if __name__ == "__main__":
    main()
