"""Peer: snnTorch ``RLeaky`` (all-to-all recurrent LIF layer), PyTorch CPU, one thread.

``RLeaky`` with ``reset_mechanism="subtract"`` and its default ``reset_delay=True`` computes
``mem[t] = beta mem[t-1] + I[t] + V spk[t-1] - threshold H(mem[t-1] - threshold)`` and
``spk[t] = H(mem[t] - threshold)``: exactly the equations of ``common.py`` with ``beta = alpha``,
``V = W_rec^T`` (no bias) and ``I[t] = W_in^T x[t]`` from a bias-free ``nn.Linear``. Run the way
snnTorch is used: a Python loop over time, float32 (its fast path), under ``torch.no_grad()``.
"""

from __future__ import annotations

import snntorch as snn
import torch
from common import emit_raster, load_case, parser, repeated


def build(case: dict, dtype: torch.dtype) -> tuple[torch.nn.Linear, snn.RLeaky]:
    n_in, n = case["w_in"].shape
    fc = torch.nn.Linear(n_in, n, bias=False, dtype=dtype)
    lif = snn.RLeaky(
        beta=case["alpha"],
        threshold=case["v_th"],
        linear_features=n,
        all_to_all=True,
        reset_mechanism="subtract",
    )
    lif = lif.to(dtype)
    with torch.no_grad():
        fc.weight.copy_(torch.as_tensor(case["w_in"].T))
        lif.recurrent.weight.copy_(torch.as_tensor(case["w_rec"].T))
        lif.recurrent.bias.zero_()
    return fc, lif


def simulate(fc, lif, x: torch.Tensor) -> torch.Tensor:
    n = fc.out_features
    spk = torch.zeros(1, n, dtype=x.dtype)
    mem = torch.zeros(1, n, dtype=x.dtype)
    raster = torch.zeros(x.shape[0], n, dtype=torch.bool)
    with torch.no_grad():
        for t in range(x.shape[0]):
            spk, mem = lif(fc(x[t : t + 1]), spk, mem)
            raster[t] = spk[0] > 0
    return raster


def main() -> None:
    args = parser(__doc__).parse_args()
    torch.set_num_threads(1)
    case = load_case(args.case)
    dtype = torch.float32
    fc, lif = build(case, dtype)
    x = torch.as_tensor(case["x"], dtype=dtype)
    simulate(fc, lif, x[:100])
    raster, wall, cpu = repeated(lambda: simulate(fc, lif, x), args.repeats)
    emit_raster(
        args.spikes_out,
        "snnTorch RLeaky (PyTorch eager, float32)",
        raster.numpy(),
        wall,
        cpu,
        f"snntorch {snn.__version__}, torch {torch.__version__}",
    )


if __name__ == "__main__":
    main()
