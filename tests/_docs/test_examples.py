"""Every Python example of the README and of the site's pages runs, and says what it prints.

A page's ``python`` blocks are run as a reader runs them: top to bottom in one fresh interpreter
(a script in an empty folder, headless matplotlib), so a block sees what the blocks above it
defined. Blocks use names a reader brings (their own ``X``, ``target``, ``labels``); each run
below defines those first (``given``, placed before the block that needs them), with small sizes
where the block leaves the size to the reader. Where a block itself is long (300 training
iterations, a sweep of 8 points), ``subs`` shortens it; every substitution must match the page,
so an edited page fails here instead of silently running something else. ``check`` then holds
the page to the numbers its comments state (to the digits they give).

Each page's blocks are listed in full: a new block fails ``test_every_block_is_run`` until a run
takes it. Blocks that use Dask run in a script of their own, under their main guard, because the
workers re-import the script.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faultkit import cli_subprocess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_tutorials import run_fast  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PRELUDE = f"""import matplotlib
matplotlib.use("Agg")
from pathlib import Path as _Path
EXAMPLES = _Path({str(EXAMPLES)!r})  # the repository's example configs
"""


def blocks_of(page: str) -> list[str]:
    """The ``python`` code blocks of a page of the repository, in order."""
    return re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), re.S)


@dataclass(frozen=True)
class Run:
    """Blocks of one page run as one script: ``given[i]`` goes before block ``i``, ``subs[i]``
    (old, new) replacements apply to block ``i``, ``check`` runs after the last block."""

    page: str
    blocks: tuple[int, ...]
    given: dict[int, str] = field(default_factory=dict)
    subs: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    check: str = ""

    @property
    def id(self) -> str:
        return f"{Path(self.page).stem}-{'-'.join(map(str, self.blocks))}"

    def script(self) -> str:
        code = blocks_of(self.page)
        parts = [PRELUDE]
        for i in self.blocks:
            block = code[i]
            for old, new in self.subs.get(i, ()):
                assert old in block, f"{self.page} block {i} no longer contains {old!r}"
                block = block.replace(old, new)
            parts += [self.given.get(i, ""), f"# ---- {self.page}, block {i}\n{block}"]
        return "\n".join(parts + ["# ---- checks\n" + self.check])


NUMPY = "import numpy as np\n"

LEARNING_GIVEN = """
target = np.sin(np.arange(x.shape[0]) / 50.0)[:, None]  # (T, n_out): a sine to generate
net_k = idn.network.LIF(n_in=100, n_rec=100, n_out=3)  # three classes
params_k = net_k.init(seed=0)
onehot = np.eye(3)[(np.arange(x.shape[0]) // 100) % 3]  # (T, 3)
"""

INFO_OBJECTIVES_GIVEN = """
T, n_out = 200, 4
labels = np.arange(4)  # one stimulus per trial of the batch
net = idn.network.LIF(n_in=20, n_rec=30, n_out=n_out)
params = net.init(seed=0)
x = idn.network.poisson_spikes(20.0, T, n_in=20, batch=4, seed=2)  # (4, T, 20)
ce_bits = 1.2  # a cross-entropy in bits
rates = np.random.default_rng(0).gamma(2.0, 5.0, 2000)  # rates in Hz
drive = np.random.default_rng(1).normal(size=(2000, 3))  # input drive of 3 sigmoid units
z = net.simulate(params, x).z  # (4, T, 30) spikes
dt = net.dt
"""

INFORMATION_GIVEN = """
rng = np.random.default_rng(0)
spikes = (rng.random((3, 400, 6)) < 0.1).astype(np.uint8)  # (trials, T, units)
X = rng.integers(0, 2, (2000, 3))
Y = (X[:, 0] ^ (rng.random(2000) < 0.1)).astype(int)
Z = rng.integers(0, 2, 2000)
trial_ids = np.repeat(np.arange(20), 100)
X1, X2, X3 = rng.integers(0, 2, (3, 2000))
x, z = rng.integers(0, 2, (2, 3000))
y = np.roll(x, 1) ^ (rng.random(3000) < 0.1)  # y copies x one step later, with noise
P = np.array([[0.9, 0.1], [0.2, 0.8]])  # a binary asymmetric channel
V1, V2 = rng.normal(size=(2, 1000, 3))
V = rng.normal(size=(1000, 5))
"""

ENERGY_GIVEN = """
rng = np.random.default_rng(0)
patterns = rng.integers(0, 2, (3, 12))  # three stored words of 12 units
up = rng.random(4000) < 0.3  # a shared latent state makes the units correlated
X = (rng.random((4000, 12)) < np.where(up[:, None], 0.5, 0.1)).astype(np.uint8)
X_train, X_test = X[:3000], X[3000:]
spikes = idn.data.SpikeTrain.from_dense((rng.random((2, 500, 12)) < 0.05).astype(np.uint8))
"""

IMAGES_GIVEN = """
from pathlib import Path

import imageio.v3 as iio

rng = np.random.default_rng(0)
Path("photos").mkdir()
for name in ("photos/leaves.png", "photos/bark.png", "a.png"):  # the reader's own photographs
    iio.imwrite(name, (rng.random((64, 80)) * 255).astype(np.uint8))
"""

SWEEP_GIVEN = """
base_config_dict = {"network": {"n_in": 10, "n_rec": 20}, "input": {"n_steps": 200}}
"""

NEST_GIVEN = """
import numpy as np

rng = np.random.default_rng(0)
n_in, n_rec, n_out, T = 20, 30, 1, 200
params_nrn_rec = {  # eprop_iaf_bsshslm_2020 as NEST's regression test sets it
    "C_m": 1.0, "c_reg": 300.0, "E_L": 0.0, "f_target": 10.0, "I_e": 0.0,
    "regular_spike_arrival": False, "surrogate_gradient_function": "piecewise_linear",
    "surrogate_gradient_height": 0.3 / 0.03, "surrogate_gradient_width": 1.0 * 0.03,
    "t_ref": 0.0, "tau_m": 30.0, "V_m": 0.0, "V_th": 0.03,
}
params_nrn_out = {  # eprop_readout_bsshslm_2020
    "C_m": 1.0, "E_L": 0.0, "I_e": 0.0, "loss": "mean_squared_error",
    "regular_spike_arrival": False, "tau_m": 30.0, "V_m": 0.0,
}
weights_in_rec = rng.normal(size=(n_rec, n_in)) / np.sqrt(n_in)  # NEST: [target, source]
weights_rec_rec = rng.normal(size=(n_rec, n_rec)) / np.sqrt(n_rec)
np.fill_diagonal(weights_rec_rec, 0.0)
weights_rec_out = rng.normal(size=(n_out, n_rec)) / np.sqrt(n_rec)
weights_out_rec = rng.normal(size=(n_rec, n_out)) / np.sqrt(n_rec)
batches = [
    ((rng.random((T, n_in)) < 0.05).astype(float), np.sin(np.arange(T) / 20.0)[None])
    for _ in range(2)
]
"""

HOOKS_GIVEN = """
task = PatternGeneration()
"""

RECORDINGS_GIVEN = r"""
import neo
import numpy as np
import pynapple as nap
import quantities as pq
from pathlib import Path
from infodyn.data.nwb import save_nwb_spikes

rng = np.random.default_rng(0)
dense = (rng.random((2, 300, 5)) < 0.05).astype(np.uint8)  # (trials, T, units) at 1 ms
mine = idn.data.SpikeTrain.from_dense(dense, dt=1.0)
idn.data.save_spikes("spikes.h5", mine)
save_nwb_spikes("session.nwb", mine)
ks = Path("kilosort_out")  # a phy folder: spike samples at 30 kHz, cluster labels
ks.mkdir()
samples = np.sort(rng.integers(0, 30_000 * 2, 200)).astype(np.uint64)
np.save(ks / "spike_times.npy", samples[:, None])
np.save(ks / "spike_clusters.npy", rng.integers(0, 4, 200).astype(np.int32))
(ks / "cluster_group.tsv").write_text("cluster_id\tgroup\n0\tgood\n1\tgood\n2\tmua\n3\tnoise\n")
(ks / "params.py").write_text("sample_rate = 30000.0\n")
neo_block = neo.Block()
for r in range(2):
    seg = neo.Segment()
    for i in range(5):
        t = np.flatnonzero(dense[r, :, i]) * 1.0 + 300.0 * r + 0.5
        seg.spiketrains.append(
            neo.SpikeTrain(t, units="ms", t_start=300.0 * r * pq.ms, t_stop=300.0 * (r + 1) * pq.ms)
        )
    neo_block.segments.append(seg)
neo.io.NeoMatlabIO("recording.mat").write_block(neo_block)  # a file Neo reads
tsgroup = nap.TsGroup({i: nap.Ts(t=rng.uniform(0, 2, 30)) for i in range(4)})
Path("sr-12-0.dat").write_text(  # a NEST spike recorder's ASCII file
    "# NEST version: 3.10.0\nsender\ttime_ms\n3\t1.500\n5\t2.100\n3\t7.900\n"
)


class _Recorder:  # a NEST spike recorder's get()
    def get(self, key):
        return {"senders": np.array([3, 5, 3]), "times": np.array([1.5, 2.1, 7.9])}


recorder = _Recorder()
"""

SWEEP_FILES_GIVEN = """
import shutil
from pathlib import Path

Path("examples").mkdir(exist_ok=True)  # Dask's workers run this again
shutil.copy(EXAMPLES / "simulate_lif.toml", "examples/")
"""

SPIKE_FILE_GIVEN = """
import numpy as np
from pathlib import Path

rng = np.random.default_rng(0)
Path("runs/sim").mkdir(parents=True)
raster = (rng.random((2, 12_000, 20)) < 0.01).astype(np.uint8)
idn.data.save_spikes("runs/sim/spikes.h5", idn.data.SpikeTrain.from_dense(raster, dt=1.0))
"""

SWEEP_CHECK = """
if __name__ == "__main__":  # two values x four seeds, all run
    assert len(res.rows) == 8 and res.n_ran == 8 and not res.failures
"""

README = "README.md"
RUNS = [
    Run(
        README,
        (0, 1, 2),
        given={0: NUMPY},
        check="""
assert trace.z.shape == (1000, 100)
w = big_params["w_rec"]
assert w.nnz == 10**7 and round(w.nbytes / 2**20) == 77 and w.nbytes / w.nnz < 8.1
s = idn.data.load_spikes("spikes.h5")
assert round(s.n_spikes / 100_000 / 10.0, 1) == 18.5  # Hz
""",
    ),
    Run(
        README,
        (0, 1, 3, 4),
        given={0: NUMPY, 3: LEARNING_GIVEN, 4: INFO_OBJECTIVES_GIVEN},
        subs={3: (("tr.fit(300,", "tr.fit(3,"),)},
        check="assert set(g) == {'w_in', 'w_rec', 'w_out'} and len(history) == 3",
    ),
    Run(
        README,
        (0, 5),
        check="""
assert len(av.sizes) == 1715 and round(fit.alpha, 2) == 1.55
cr = idn.criticality.crackling_relation(av, fit.alpha, dur_fit.alpha, d_min=int(dur_fit.xmin))
assert round(cr.gamma_predicted, 2) == 1.84 and round(cr.gamma_fitted, 2) == 1.84
""",
    ),
    Run(README, (0, 6), given={0: NUMPY, 6: INFORMATION_GIVEN}),
    Run(README, (0, 7), given={0: NUMPY, 7: ENERGY_GIVEN}),
    Run(README, (0, 8), given={0: NUMPY, 8: IMAGES_GIVEN}),
    Run(README, (0, 9), given={9: SWEEP_GIVEN}, check=SWEEP_CHECK),
    Run(
        "docs/getting-started.md",
        (0, 1, 2, 3),
        check="""
assert spikes.n_spikes == 1542 and round(spikes.rates_hz().mean(), 1) == 1.5
assert round(m.m, 3) == 0.917 and np.round(m.m_ci, 2).tolist() == [0.68, 1.10]
assert round(m.tau) == 35
assert (len(av), av.sizes.max(), av.durations.max()) == (234, 542, 105)
assert round(float(idn.information.entropy(top)), 2) == 0.72
assert round(float(idn.information.o_information(top)), 2) == 0.22
assert len(memories) == 10 and {0, 12} <= set(memories.sum(axis=1).tolist())
""",
    ),
    Run("docs/conventions.md", (0,), given={0: "import infodyn as idn\n" + NEST_GIVEN}),
    Run(
        "docs/energy.md",
        (0,),
        given={
            0: "import infodyn as idn\nE = idn.energy\n"
            + NUMPY
            + ENERGY_GIVEN
            + "model = E.fit(X)\n"
        },
    ),
    Run("docs/images.md", (0,), given={0: "import infodyn as idn\n" + NUMPY + IMAGES_GIVEN}),
    Run(
        "docs/learning.md",
        (0, 1, 2),
        given={
            0: "import infodyn as idn\n" + NUMPY + "net = idn.network.LIF(n_in=100, n_rec=100)\n"
            "params = net.init(seed=0)\n"
            "x = idn.network.poisson_spikes(50.0, 1000, n_in=100, seed=1)\n" + LEARNING_GIVEN,
            1: HOOKS_GIVEN,
            2: INFO_OBJECTIVES_GIVEN,
        },
        subs={0: (("tr.fit(300,", "tr.fit(3,"),), 1: (("tr.fit(500)", "tr.fit(5)"),)},
    ),
    Run("docs/network.md", (0,), given={0: "import infodyn as idn\n"}),
    Run(
        "docs/recordings.md",
        (0,),
        given={0: "import infodyn as idn\n" + RECORDINGS_GIVEN},
        subs={0: (('"recording.plx", dt=0.5', '"recording.mat", dt=0.5'),)},
        check="assert s.n_units == 5 and s.n_trials == 2",
    ),
    Run(
        "docs/scale.md",
        (0,),
        given={
            0: "from infodyn.experiments.config import COMMANDS, CommandSpec, register_command\n"
            "before = COMMANDS['train']\n"
        },
        check="assert COMMANDS['train'] == before  # the page shows train's own registration",
    ),
    Run("docs/scale.md", (1,), given={1: SWEEP_FILES_GIVEN}, check=SWEEP_CHECK),
    Run(
        "docs/scale.md",
        (5,),
        check="""
assert params["w_rec"].same_pattern(net.init(seed=0)["w_rec"])  # the graph kept
assert params["w_rec"] != net.init(seed=0)["w_rec"]  # the values trained
""",
    ),
    Run(  # private inputs: the scale benchmark's "ai" network, at 2,000 units
        "docs/scale.md",
        (6,),
        given={6: "import infodyn as idn\n"},
        subs={6: (("n_rec=100_000", "n_rec=2_000"), ("x, 10_000,", "x, 1_000,"))},
        check="""
s = idn.data.load_spikes("spikes.h5")
assert params["w_in"].nnz == 2_000 and 4.0 < s.n_spikes / (2_000 * 1.0) < 7.0  # about 5.4 Hz
""",
    ),
    Run(
        "docs/scale.md",
        (3, 4, 7),
        given={3: "import infodyn as idn\n" + SPIKE_FILE_GIVEN},
        subs={4: (("50.0, 10_000,", "50.0, 1_000,"), ("x, 10_000,", "x, 1_000,"))},
        check="""
assert w.nnz == 10**7 and trace.z.shape == (500, 100_000)
stream = idn.data.load_spikes("spikes.h5")
assert (stream.times == spikes.times).all() and (stream.units == spikes.units).all()
assert Path("run.nwb").is_file() and times.min() >= 5_000 and times.max() < 6_000
""",
    ),
]

# Blocks that cannot run here, with the reason; they must still compile.
NOT_RUN = {
    ("docs/scale.md", 2): "starts a SLURM cluster (dask_jobqueue, sbatch) and waits for Enter",
}

# Blocks that repeat another page's block: the code must stay the same (comments may differ).
SAME_AS = {
    ("docs/network.md", 1): (README, 2),
}


def test_every_block_is_run():
    other = {**NOT_RUN, **SAME_AS}
    pages = {r.page for r in RUNS} | {page for page, _ in other}
    for page in pages:
        taken = {i for r in RUNS if r.page == page for i in r.blocks}
        taken |= {i for p, i in other if p == page}
        assert taken == set(range(len(blocks_of(page)))), f"{page}: blocks taken {sorted(taken)}"
    shown = [p for p in sorted(ROOT.glob("docs/*.md")) if "```python" in p.read_text()]
    assert {str(p.relative_to(ROOT)) for p in shown} <= pages


@pytest.mark.parametrize("where", sorted(NOT_RUN), ids=lambda w: f"{Path(w[0]).stem}-{w[1]}")
def test_blocks_not_run_compile(where):
    page, i = where
    compile(blocks_of(page)[i], f"{page} block {i}", "exec")


@pytest.mark.parametrize("where", sorted(SAME_AS), ids=lambda w: f"{Path(w[0]).stem}-{w[1]}")
def test_repeated_blocks_are_the_same_code(where):
    page, i = where
    other, j = SAME_AS[where]
    assert ast.dump(ast.parse(blocks_of(page)[i])) == ast.dump(ast.parse(blocks_of(other)[j]))


@pytest.mark.parametrize("run", RUNS, ids=[r.id for r in RUNS])
def test_page_examples_run(run, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(run.script())
    r = run_fast(script, tmp_path, as_file=True)
    assert r.returncode == 0, f"{run.id}:\n{r.stderr[-3000:]}"


def test_readme_command_line_numbers(tmp_path):
    """The README's command-line block: ``runs/sim (1000 units at 27 Hz)`` has no silent 1-ms
    bin; ``--sample-fraction 0.1`` gives 802 avalanches with alpha_S 3.2 and refuses m."""
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "simulate_lif.toml").write_text(
        (EXAMPLES / "simulate_lif.toml").read_text()
    )
    readme = (ROOT / README).read_text()
    commands = (  # the README's lines, and the option its comment adds
        ("simulate examples/simulate_lif.toml --out runs/sim",),
        ("criticality runs/sim/spikes.h5 --out runs/crit", "--sample-fraction 0.1"),
    )
    for parts in commands:
        assert all(part in readme for part in parts), parts
        r = cli_subprocess(*" ".join(parts).split(), cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
    sim = json.loads((tmp_path / "runs/sim/results.json").read_text())
    crit = json.loads((tmp_path / "runs/crit/results.json").read_text())
    assert (sim["n_units"], round(sim["mean_rate_hz"])) == (1000, 27)
    assert crit["avalanches"]["n"] == 802
    assert round(crit["avalanches"]["size_fit"]["alpha"], 1) == 3.2
    assert crit["branching"]["mr"]["m"] is None  # refused, as the README says
