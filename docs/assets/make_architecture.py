"""Draw docs/assets/architecture.svg: the packages with the direction of their imports, and the
pipeline's stages with the typed result each hands on.

    python docs/assets/make_architecture.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).with_name("architecture.svg")

# (name, x, y, note): the packages, top to bottom in import order
PACKAGES = [
    ("cli", 3.0, 6.0, "one thin module per command"),
    ("experiments", 3.0, 4.9, "runs, pipeline/, channel/, sweeps"),
    ("learning", 0.9, 3.6, "e-prop, losses, Trainer + hooks"),
    ("criticality", 2.35, 3.6, "branching, avalanches"),
    ("information", 3.8, 3.6, "estimators, PID, responses"),
    ("energy", 5.2, 3.6, "Ising model, fit, denoise"),
    ("network", 0.9, 2.4, "LIF/ALIF, encoders, engines"),
    ("data", 3.0, 1.3, "spike files, recordings, images"),
    ("errors, memory", 3.0, 0.3, "InputError, memory preflight"),
]
EDGES = [
    ("cli", "experiments"),
    ("experiments", "learning"),
    ("experiments", "criticality"),
    ("experiments", "information"),
    ("experiments", "energy"),
    ("learning", "network"),
    ("network", "data"),
    ("criticality", "data"),
    ("information", "data"),
    ("energy", "data"),
    ("data", "errors, memory"),
]
# (module, result, what it does)
STAGES = [
    ("config", "PipelineConfig", "one section per stage"),
    ("image_stage", "ImageEnergyResult", "energy model of image patches"),
    ("stimulus_stage", "Stimuli", "patches -> ON/OFF rates, network, PatchTask"),
    ("analysis (before)", "ResponseAnalysis", "criticality, information of responses"),
    ("training_stage", "TrainingOutcome", "Trainer + branching hook"),
    ("analysis (after)", "ResponseAnalysis", "+ response_energy: memories of words"),
    ("summary + run", "results.json, report.html", "headline, captions, figures"),
]


def _box(ax, x, y, w, h, title, note, color):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04", fc=color, ec="0.25", lw=1.0
        )
    )
    ax.text(x, y + 0.1, title, ha="center", va="center", fontsize=10, weight="bold")
    ax.text(x, y - 0.17, note, ha="center", va="center", fontsize=6.5, color="0.2")


def _arrow(ax, a, b):
    ax.add_patch(
        FancyArrowPatch(
            a, b, arrowstyle="-|>", mutation_scale=10, lw=0.9, color="0.3", shrinkA=2, shrinkB=2
        )
    )


def main() -> None:
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 6.4), gridspec_kw={"width_ratios": [1.15, 1]}
    )
    pos = {name: (x, y) for name, x, y, _ in PACKAGES}
    colors = {
        "cli": "#d6e4f0",
        "experiments": "#d6e4f0",
        "errors, memory": "#eeeeee",
        "data": "#eeeeee",
    }
    w, h = 1.3, 0.62
    for name, x, y, note in PACKAGES:
        _box(left, x, y, w, h, name, note, colors.get(name, "#fbe3c9"))
    for a, b in EDGES:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        _arrow(left, (xa, ya - h / 2), (xb, yb + h / 2))
    left.set_xlim(0, 6)
    left.set_ylim(-0.2, 6.5)
    left.set_title("packages: an arrow is 'may import'; nothing points up", fontsize=11)
    left.axis("off")
    n = len(STAGES)
    for i, (mod, result, note) in enumerate(STAGES):
        y = n - 1 - i
        _box(right, 1.6, y, 2.6, 0.7, mod, note, "#e3f0d6")
        right.text(3.05, y, result, ha="left", va="center", fontsize=8.5, style="italic")
        if i < n - 1:
            _arrow(right, (1.6, y - 0.35), (1.6, y - 0.65))
    right.set_xlim(0, 4.9)
    right.set_ylim(-0.6, n - 0.4)
    right.set_title("experiments/pipeline/: stages and their typed results", fontsize=11)
    right.axis("off")
    fig.tight_layout()
    fig.savefig(OUT, metadata={"Date": None})
    print(OUT)


if __name__ == "__main__":
    main()
