"""Memory estimates of the image pipeline, checked before any stage starts.

The energy model of ``size x size`` patches works on ``n = size^2`` binary pixels: the patch
arrays hold ``N = n_patches (1 + held_out)`` rows of ``n`` values (grey levels in float64, the
binary copy, whitening and the fit's ``N x n`` flip-energy temporaries, about seven float64
copies in all) and the couplings, their gradient and the optimiser's moments are ``n x n``
float64 arrays (about six), and L-BFGS-B keeps 20 pairs of parameter vectors (``n^2 / 2``
entries each: 20 ``n x n`` arrays more). ``infodyn images --sizes 100`` (n = 10^4) therefore
needs hundreds of GiB; it is refused with the numbers (:func:`infodyn.memory.require_memory`)
instead of ending in ``MemoryError`` (or a crash) after the earlier sizes ran.
"""

from __future__ import annotations

from typing import Any

from infodyn.memory import require_memory


def image_energy_bytes(size: int, n_patches: int, held_out: float) -> float:
    """Estimated peak bytes of the energy model of ``size x size`` patches (module docstring)."""
    n = float(size) ** 2
    rows = n_patches * (1.0 + held_out)
    return 8.0 * (7.0 * rows * n + (6.0 + 20.0) * n * n)


def check_pipeline_memory(cfg: Any) -> None:
    """Refuse a pipeline config whose largest image energy model cannot fit in memory."""
    if "image_energy" not in cfg.stages or not cfg.images.sizes:
        return
    im = cfg.images
    size = max(im.sizes)
    require_memory(
        image_energy_bytes(size, im.n_patches, im.held_out),
        f"the energy model of {size}x{size} patches ({size * size} pixels, {im.n_patches} patches)",
        "use smaller [images] sizes (4 to 16 pixels a side) or fewer n_patches",
    )
