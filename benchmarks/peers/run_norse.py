"""Peer: Norse ``LIFRecurrentCell`` (recurrent LIF layer), PyTorch CPU, one thread.

Norse integrates ``dv/dt = (v_leak - v + i) / tau_mem``, ``di/dt = -i / tau_syn`` with one
Euler step of ``dt`` a step, the input and recurrent spikes jumping ``i`` first
(``i <- i + W_in x[t] + W_rec z[t-1]``), then ``z = H(v - v_th)`` and ``v <- v_reset`` where it
spiked (Norse's ``lif_step``). Mapped onto the benchmark's equations (``common.py``):

- ``tau_syn_inv = 1 / dt``: the current decays to exactly 0 within its step (delta synapses);
- ``tau_mem_inv = (1 - alpha) / dt``: the Euler decay ``1 - dt tau_mem_inv`` is ``alpha``;
- the weights divided by ``1 - alpha``: ``dt tau_mem_inv (W x)/(1 - alpha) = W x``;
- ``v_leak = v_reset = 0``, the same ``v_th``, no autapses (the case has none).

One thing no setting maps: Norse resets ``v`` to ``v_reset`` in the step it spikes, where the
benchmark subtracts ``v_th`` in the next (``v[t+1] = alpha v[t] + I[t+1] - v_th z[t]``). So the
raster is not the event engine's and the table compares activity and speed. Run the way Norse is
used: a Python loop over time calling the cell, float32, under ``torch.no_grad()``.
"""

from __future__ import annotations

import norse
import torch
from common import emit_raster, load_case, parser, repeated
from norse.torch import LIFParameters, LIFRecurrentCell


def build(case: dict, dtype: torch.dtype) -> LIFRecurrentCell:
    n_in, n = case["w_in"].shape
    dt, alpha = float(case["dt"]), float(case["alpha"])
    p = LIFParameters(
        tau_syn_inv=torch.as_tensor(1.0 / dt),
        tau_mem_inv=torch.as_tensor((1.0 - alpha) / dt),
        v_leak=torch.as_tensor(0.0),
        v_th=torch.as_tensor(float(case["v_th"])),
        v_reset=torch.as_tensor(0.0),
    )
    scale = 1.0 / (1.0 - alpha)
    return LIFRecurrentCell(
        n_in,
        n,
        p=p,
        dt=dt,
        autapses=False,
        input_weights=torch.as_tensor(case["w_in"].T * scale, dtype=dtype),
        recurrent_weights=torch.as_tensor(case["w_rec"].T * scale, dtype=dtype),
    )


def simulate(cell: LIFRecurrentCell, x: torch.Tensor) -> torch.Tensor:
    raster = torch.zeros(x.shape[0], cell.hidden_size, dtype=torch.bool)
    state = None
    with torch.no_grad():
        for t in range(x.shape[0]):
            z, state = cell(x[t : t + 1], state)
            raster[t] = z[0] > 0
    return raster


def main() -> None:
    args = parser(__doc__).parse_args()
    torch.set_num_threads(1)
    case = load_case(args.case)
    dtype = torch.float32
    cell = build(case, dtype)
    x = torch.as_tensor(case["x"], dtype=dtype)
    simulate(cell, x[:100])
    raster, wall, cpu = repeated(lambda: simulate(cell, x), args.repeats)
    emit_raster(
        args.spikes_out,
        "Norse LIFRecurrentCell (PyTorch eager, float32; reset to 0)",
        raster.numpy(),
        wall,
        cpu,
        f"norse {norse.__version__}, torch {torch.__version__}",
    )


if __name__ == "__main__":
    main()
