"""Reading broken spike files: an InputError naming the path (never a raw MemoryError,
EOFError or PermissionError), for spike files and images alike."""

import numpy as np
import pytest

from infodyn.errors import InputError


@pytest.fixture
def spike_file(tmp_path):
    from faultkit import tiny_spikes

    return tiny_spikes(tmp_path / "s.h5")


@pytest.mark.parametrize("fault", ["missing", "empty", "truncated", "garbage"])
@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_load_spikes_faults_name_the_path(fault, suffix, tmp_path, spike_file):
    from faultkit import breakages

    from infodyn.data.io import load_spikes
    from infodyn.data.spikes import SpikeTrain

    good = spike_file
    if suffix == ".npz":
        good = tmp_path / "s.npz"
        sp = load_spikes(spike_file)
        np.savez(
            good, times=sp.times, units=sp.units, n_units=sp.n_units, n_steps=sp.n_steps, dt=sp.dt
        )
        assert isinstance(load_spikes(good), SpikeTrain)
    path = breakages(good, tmp_path, "b", suffix)[fault]
    with pytest.raises(InputError, match=path.name):
        load_spikes(path)


def test_raw_os_and_memory_errors_become_input_errors(monkeypatch, spike_file, tmp_path):
    from infodyn.data import image_files as images_mod
    from infodyn.data.io import load_spikes

    for exc in (MemoryError(), PermissionError(13, "Permission denied"), EOFError("cut")):

        def boom(*a, exc=exc, **k):
            raise exc

        monkeypatch.setattr("infodyn.data.spikes._load_h5", boom)
        with pytest.raises(InputError, match="s.h5: cannot read this spike file"):
            load_spikes(spike_file)
        monkeypatch.setattr(images_mod, "_read_image", boom)
        with pytest.raises(InputError, match="img.png: cannot read this image"):
            images_mod.read_image(tmp_path / "img.png")
