#!/usr/bin/env bash
# Every GPU check of infodyn in one run, in order of importance, each stage under its own time
# limit, logs under $OUT (default gpu_checks/). Run from the repository root on a machine where
# JAX sees a GPU, with infodyn and its test extras importable (stops 35 and 36 ran these stages by
# hand on an NVIDIA H200 in 8-9 minutes; results in benchmarks/RESULTS.md, "The JAX engine on a
# GPU"):
#
#   1. tests/network/test_gpu.py: CPU and GPU agree (spikes, sparse paths, e-prop/BPTT gradients);
#   2. the whole suite with JAX defaulting to the GPU (conftest.py keeps its exactness checks on
#      the CPU; this checks that it does);
#   3. bitwise reproducibility of sparse training, both sparse paths, with and without XLA's
#      deterministic-ops flag (benchmarks/gpu_reproducibility.py; exit 1 when weights differ);
#   4. the by-target sum's unroll factor at K = 1,000 (benchmarks/gpu_scale.py);
#   5. the 10^5-unit network in memory and streamed in chunks (simulate_spikes, engine="jax").
#
#   bash benchmarks/gpu_checks.sh            # WORKERS=15 OUT=gpu_checks by default
#   STAGES="unroll stream" bash benchmarks/gpu_checks.sh   # some of: gpu_tests suite
#                                            # reproducible unroll stream
#
# Stop 36 ran stages 1-3 by hand on an H200 (the suite: 259 s with 15 workers); the K = 1,000
# sweep at 64 and 128, the Bernoulli case and the streamed run have not been timed on a GPU.
# Under a 10-minute limit on one command, run them in three goes (the stages' limits add up to
# 450, 360 and 300 s): STAGES="gpu_tests suite", "reproducible", "unroll stream". A stage that
# fails or runs out of time is reported and the next one runs.
set -u
OUT=${OUT:-gpu_checks}
WORKERS=${WORKERS:-15}
export PYTHONPATH=${PWD}/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false # several processes share the GPU
start=$(date +%s)
STAGES=" ${STAGES:-gpu_tests suite reproducible unroll stream} "
want() { [[ $STAGES == *" $1 "* ]]; }

stage() { # stage NAME SECONDS COMMAND...: run it, log it, say how it ended
    local name=$1 limit=$2
    shift 2
    echo "== $(($(date +%s) - start)) s: $name"
    timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    case $rc in
    0) echo "   ok" ;;
    124) echo "   stopped at its limit of $limit s (partial log: $OUT/$name.log)" ;;
    *) echo "   exit $rc:" && grep -E "FAILED|Error|differ" "$OUT/$name.log" | tail -8 ;;
    esac
}

if ! python3 -c "import jax; print('JAX', jax.__version__, jax.devices('gpu'))" 2>/dev/null; then
    echo "gpu_checks.sh: JAX sees no GPU here; install jax[cuda12] (jax[cuda13] for CUDA 13)" >&2
    exit 2
fi
mkdir -p "$OUT"
if want gpu_tests; then
    stage gpu_tests 150 python3 -m pytest -q -p no:cacheprovider -rs tests/network/test_gpu.py
fi
if want suite; then
    stage suite 300 python3 -m pytest -v -p no:cacheprovider -p no:benchmark -n "$WORKERS" \
        --dist loadfile -rfE tests
    grep -E "^(FAILED|ERROR)|passed|failed" "$OUT/suite.log" | grep -v PASSED | tail -12
fi
if want reproducible; then
    for pattern in k_in bernoulli; do
        stage "reproducible_$pattern" 90 \
            python3 benchmarks/gpu_reproducibility.py --pattern "$pattern"
        XLA_FLAGS=--xla_gpu_deterministic_ops=true \
            stage "reproducible_${pattern}_deterministic" 90 \
            python3 benchmarks/gpu_reproducibility.py --pattern "$pattern"
        grep -h "differ" "$OUT/reproducible_${pattern}"*.log
    done
fi
if want unroll; then
    stage unroll_k1000 150 python3 benchmarks/gpu_scale.py ai:10000:1000:2000 --repeats 2 \
        --gpu-unroll 32 64 128 --json "$OUT/unroll_k1000.json"
    tail -8 "$OUT/unroll_k1000.log"
fi
if want stream; then
    stage stream_1e5 150 python3 benchmarks/gpu_scale.py ai:100000:100:2000 --gpu-unroll 64 \
        --stream 500 --json "$OUT/stream_1e5.json"
    tail -6 "$OUT/stream_1e5.log"
fi
echo "== $(($(date +%s) - start)) s: done; logs in $OUT/"
