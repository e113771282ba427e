"""Memory preflight: the refusal names the need, what is free and what to change."""

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.memory import (
    MemoryPreflightError,
    available_bytes,
    format_bytes,
    require_memory,
)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(1000 * 1024) == "1000 KiB"  # not "1e+03 KiB"
    assert format_bytes(1047552) == "1023 KiB" and format_bytes(99.96 * 1024) == "100 KiB"
    assert format_bytes(99.9 * 1024) == "99.9 KiB"
    assert format_bytes(1048575) == "1 MiB"  # it printed "1024 KiB"
    assert format_bytes(3 * 1024**3) == "3 GiB"


def test_limit_caps_available(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "64M")
    assert available_bytes() == 64 * 1024**2


def test_refusal_message(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1G")
    require_memory(100 * 1024**2, "a small thing", "nothing")
    with pytest.raises(MemoryPreflightError) as info:
        require_memory(10 * 1024**3, "a dense w_rec", "use connectivity='sparse'")
    msg = str(info.value)
    assert (
        "a dense w_rec needs 10 GiB but 1 GiB is free under INFODYN_MEMORY_LIMIT; use "
        "connectivity='sparse'" == msg
    )
    assert isinstance(info.value, InputError)


def test_bad_limit(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "lots")
    with pytest.raises(InputError, match="not a size"):
        available_bytes()
    for value in ("nan", "inf", "1e400", "0", "-1G"):  # not a finite positive size
        monkeypatch.setenv("INFODYN_MEMORY_LIMIT", value)
        with pytest.raises(InputError, match="finite positive size"):
            available_bytes()


def test_free_memory_is_memavailable_in_kib(monkeypatch):
    """/proc/meminfo's MemAvailable (kB = KiB), not MemFree; a fixture so that the result does
    not depend on the machine (read as bytes it passed only on hosts with little memory)."""
    import io

    import infodyn.memory as memory

    text = "MemTotal:  16000000 kB\nMemFree:     100000 kB\nMemAvailable: 8000000 kB\n"

    def fake_open(path, *args, **kwargs):
        assert path == "/proc/meminfo"
        return io.StringIO(text)

    monkeypatch.delenv("INFODYN_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(memory, "open", fake_open, raising=False)
    assert available_bytes() == 8_000_000 * 1024
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1T")  # the cap only lowers it
    assert available_bytes() == 8_000_000 * 1024


@pytest.mark.parametrize(
    ("text", "size"),
    [("8GiB", 8 * 1024**3), ("2 GB", 2 * 1024**3), ("512k", 512 * 1024), ("1.5M", 1.5 * 1024**2)],
)
def test_limit_suffixes(monkeypatch, text, size):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", text)
    assert available_bytes() == size


def test_one_allocation_may_claim_90_percent_of_what_is_free(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1G")
    require_memory(0.89 * 1024**3, "most of it", "nothing")
    with pytest.raises(MemoryPreflightError):
        require_memory(0.91 * 1024**3, "nearly all of it", "something")


def test_another_memory_is_checked_with_the_same_headroom(monkeypatch):
    """``free`` (a GPU's, say) replaces the host's, which then plays no part."""
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1K")  # the host: would refuse both
    require_memory(0.89 * 1024**3, "most of it", "nothing", free=1024**3, where=" on the device")
    with pytest.raises(MemoryPreflightError) as info:
        require_memory(0.91 * 1024**3, "chunks", "fewer", free=1024**3, where=" on the device")
    assert str(info.value) == (
        "chunks needs 932 MiB on the device but 1 GiB is free there, of which one allocation "
        "takes at most 90% (922 MiB); fewer"
    )


def test_a_refusal_under_the_limit_names_the_limit(monkeypatch):
    """'2 GiB is free' read as the host's memory where the user had set the limit to 2G."""
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1G")
    with pytest.raises(MemoryPreflightError, match="but 1 GiB is free under INFODYN_MEMORY_LIMIT;"):
        require_memory(2 * 2**30, "x", "less")
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", str(10**18))  # the host binds: not named
    with pytest.raises(MemoryPreflightError) as info:
        require_memory(10**19, "x", "less")
    assert "INFODYN_MEMORY_LIMIT" not in str(info.value)


def test_library_allocations_that_grow_with_their_arguments_ask_first(monkeypatch):
    """Each was a raw NumPy "Unable to allocate" (or ran past any limit): the Hamming matrix
    of 20,000 codewords (3 GiB), the clique network on K_200 (3 GiB), a transition matrix of
    20,000 states (3 GiB), a constant input of 10^7 x 100 steps (3.7 GiB), 10^9 power-law
    values (7.5 GiB); filtered noise counted its noise alone (200,000 x 100 took 4x)."""
    import infodyn.criticality as C
    import infodyn.energy as E
    import infodyn.network as N

    patterns = np.zeros((20_000, 8), np.uint8)
    labels = np.arange(20_000)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "100M")
    for call, what in (
        (lambda: E.hamming_distances(patterns), "20,000 x 20,000 Hamming distances"),
        (lambda: E.clique_network(200), r"clique network on K_200 \(19,900 units\)"),
        (lambda: E.markov_chain(labels), "20,000 x 20,000 transition matrix"),
        (lambda: N.direct_current(1.0, 10**7, 100), "constant input of 10,000,000 steps"),
        (lambda: C.sample_power_law(10**9, 2.5, 1), "1,000,000,000 power-law values"),
        (lambda: N.filtered_noise_rates(200_000, 100), "filtered noise of 200,000 steps"),
    ):
        with pytest.raises(MemoryPreflightError, match=what):
            call()
    assert E.hamming_distances(patterns[:10]).shape == (10, 10)  # small ones run
    assert N.direct_current(1.0, 100, 3).shape == (100, 3)


def _cgroups(tmp_path, monkeypatch, own, files):
    """A fake cgroup mount under tmp_path: ``own`` is /proc/self/cgroup's text, ``files`` maps
    paths under the mount to their contents."""
    import io

    import infodyn.memory as memory

    host = "MemTotal: 1000000000 kB\nMemAvailable: 900000000 kB\n"  # a large node: 858 GiB
    monkeypatch.setattr(memory, "open", lambda path, *a, **k: io.StringIO(host), raising=False)
    for name, text in files.items():
        path = tmp_path / "mount" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "cgroup").write_text(own)
    monkeypatch.setattr(memory, "CGROUP_MOUNT", tmp_path / "mount")
    monkeypatch.setattr(memory, "PROC_CGROUP", tmp_path / "cgroup")
    monkeypatch.delenv("INFODYN_MEMORY_LIMIT", raising=False)
    return memory


def test_a_cgroup_v2_limit_binds_with_its_tightest_ancestor(tmp_path, monkeypatch):
    """A container or batch job on a large node: MemAvailable is the node's, and the job was
    killed by its group's OOM killer after the preflight passed."""
    G = 1024**3
    memory = _cgroups(
        tmp_path,
        monkeypatch,
        "0::/job/step\n",
        {
            "job/memory.max": f"{4 * G}\n",  # the job: 4 GiB, 3 GiB used, 0.5 GiB reclaimable
            "job/memory.current": f"{3 * G}\n",
            "job/memory.stat": f"anon 1\ninactive_file {G // 2}\nactive_file 7\n",
            "job/step/memory.max": "max\n",  # the step: no limit of its own
            "job/step/memory.current": f"{G}\n",
        },
    )
    assert memory.cgroup_free_bytes() == 4 * G - (3 * G - G // 2)
    assert available_bytes() == memory.cgroup_free_bytes()
    with pytest.raises(MemoryPreflightError, match="under this process's control group memory"):
        require_memory(2 * G, "x", "less")
    (tmp_path / "mount" / "job" / "step" / "memory.max").write_text(f"{G + G // 4}\n")
    assert memory.cgroup_free_bytes() == G // 4  # the step's own, tighter
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")  # the user's cap binds: named as such
    with pytest.raises(MemoryPreflightError, match="under INFODYN_MEMORY_LIMIT;"):
        require_memory(2 * G, "x", "less")


def test_cgroup_v1_and_namespaced_and_unlimited_groups(tmp_path, monkeypatch):
    G = 1024**3
    unlimited = str(2**63 - 4096)
    # v1, namespaced (a container): the process's path is not under the mount, its group is
    memory = _cgroups(
        tmp_path,
        monkeypatch,
        "4:memory:/docker/abc\n3:cpu:/docker/abc\n",
        {
            "memory/memory.limit_in_bytes": f"{2 * G}",
            "memory/memory.usage_in_bytes": f"{G}",
            "memory/memory.stat": f"cache 5\ntotal_inactive_file {G // 4}\n",
        },
    )
    assert memory.cgroup_free_bytes() == 2 * G - (G - G // 4)
    (tmp_path / "mount" / "memory" / "memory.limit_in_bytes").write_text(unlimited)
    assert memory.cgroup_free_bytes() is None  # v1's "no limit"
    (tmp_path / "cgroup").write_text("0::/\n")  # v2 at the root: no memory.max there
    assert memory.cgroup_free_bytes() is None
    (tmp_path / "cgroup").unlink()  # no /proc/self/cgroup (not Linux)
    assert memory.cgroup_free_bytes() is None


def test_the_limit_that_binds_is_named_from_one_reading(tmp_path, monkeypatch):
    """The group's usage changes between reads (workers beside the process): read twice, the
    second reading differed from the first and the refusal named no limit."""
    G = 1024**3
    memory = _cgroups(tmp_path, monkeypatch, "0::/\n", {})
    readings, real = iter([G, G + 4096, G + 8192]), memory.cgroup_free_bytes
    monkeypatch.setattr(memory, "cgroup_free_bytes", lambda: next(readings))
    with pytest.raises(MemoryPreflightError, match="but 1 GiB is free under this process's con"):
        require_memory(2 * G, "x", "less")
    monkeypatch.setattr(memory, "cgroup_free_bytes", real)
    # digits the kernel never writes ("²" passes str.isdigit) are no limit, not a ValueError
    memory = _cgroups(
        tmp_path, monkeypatch, "0::/j\n", {"j/memory.max": "²\n", "j/memory.current": "5\n"}
    )
    assert memory.cgroup_free_bytes() is None


def test_a_dask_workers_memory_limit_binds_inside_its_tasks():
    """A sweep point too big for its remote worker (`dask worker --memory-limit 2GB`) was checked
    against the host's free memory, passed, and its worker died over and over (KilledWorker);
    inside a worker's task the limit less the process's resident memory is what is free."""
    import psutil
    from dask.distributed import Client, LocalCluster

    from infodyn import memory

    assert memory.dask_worker_free_bytes() is None  # not in a worker's task
    limit = psutil.Process().memory_info().rss + 2**30  # threads: this process is the worker

    def reading():
        free = memory.available_bytes()
        return free, memory._last_reading["binds"], memory.dask_worker_free_bytes()

    with (
        LocalCluster(
            n_workers=1, processes=False, memory_limit=limit, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        free, binds, worker = client.submit(reading, pure=False).result()
    assert 0 < free <= 2**30 and 0 < worker <= 2**30, (free, worker)  # (RSS moves between)
    assert binds == " under this Dask worker's memory limit (dask worker --memory-limit)"


def test_an_address_space_limit_binds_and_is_named(monkeypatch):
    """Under `ulimit -v` (RLIMIT_AS, as SGE's h_vmem sets it) a header's 2^31 units passed the
    check against the host's free memory and numpy failed at once ("out of memory"); the limit
    less the mapped memory is what is free there, and a refusal names it."""
    from infodyn import memory

    monkeypatch.delenv("INFODYN_MEMORY_LIMIT", raising=False)
    mapped = memory.address_space_free_bytes()
    assert mapped is None or mapped >= 0  # (this machine may set one)
    real = memory.resource.getrlimit
    with open("/proc/self/status") as fh:
        vm_kib = int(next(ln for ln in fh if ln.startswith("VmSize:")).split()[1])
    soft = 2**30 + 1024 * vm_kib  # 1 GiB more than is mapped now

    def limited(which):
        return (soft, real(which)[1]) if which == memory.resource.RLIMIT_AS else real(which)

    monkeypatch.setattr(memory.resource, "getrlimit", limited)
    assert 0 < memory.address_space_free_bytes() <= 2**30
    with pytest.raises(
        MemoryPreflightError,
        match=r"is free under this process's address-space "
        r"limit \(ulimit -v\); check",
    ):
        require_memory(2**31, "a lookup", "check")
    monkeypatch.setattr(
        memory.resource, "getrlimit", lambda which: (memory.resource.RLIM_INFINITY,) * 2
    )
    assert memory.address_space_free_bytes() is None
