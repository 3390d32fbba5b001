#!/usr/bin/env bash
# Runs jtensor's tests and GPU benchmarks on a GPU host that has no JDK and no network, from what
# scripts/gpu/bundle.sh packed into .gpu/. Writes into $OUT:
#   gpu.txt            nvidia-smi's view of the GPU and driver
#   kernels-build.txt  nvcc's log, when the kernels had to be (re)built here
#   tests.txt          the JUnit tree of every module's tests (CUDA tests run, not skip)
#   tests-logical.txt  the logical-device tests (CudaLogicalDevicesGpuTest, CudaDeviceCopyGpuTest), in a JVM with
#                      -Djtensor.cuda.logicalDevices=2; then DataParallelGpuTest with 4
#   bench.txt          io.jtensor.backend.cuda.GpuBench's table
# and prints a short summary last. ($OUT defaults to /tmp/jtensor-gpu-out.)
# Environment: JTENSOR_TEST_TIMEOUT (s, default 420), JTENSOR_CLASS_TIMEOUT (s per CUDA test class, default 90),
# JTENSOR_BENCH_TIMEOUT (s, default 180), JTENSOR_BENCH_ARGS
# (e.g. --quick), JTENSOR_SKIP_TESTS=1, JTENSOR_SKIP_BENCH=1, JTENSOR_TEST_SELECT (JUnit console selectors instead of
# scanning every module's tests, e.g. "--scan-class-path .gpu/tests/engine --include-package io.jtensor.backend.cuda"),
# JTENSOR_JAVA_OPTS (more JVM options for every run, e.g. "-Djtensor.cuda.variant.batchnorm=fused" to run the whole
# suite under a candidate default).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
OUT=${OUT:-/tmp/jtensor-gpu-out}
mkdir -p "$OUT"
gpu=$root/.gpu
say() { echo "[run-on-gpu] $*"; }
[[ -d $gpu/lib ]] || { say "no .gpu/ bundle here: run scripts/gpu/bundle.sh on the build machine and carry .gpu"; exit 2; }

# 1. Java
if [[ ! -x /tmp/jre/bin/java ]]; then
  mkdir -p /tmp/jre && tar xJf "$gpu/jre.tar.xz" -C /tmp/jre --strip-components=1
fi
JAVA=/tmp/jre/bin/java
"$JAVA" -version 2>&1 | head -n1

# 2. The GPU as the driver sees it
if command -v nvidia-smi >/dev/null; then
  { nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm --format=csv 2>&1; nvidia-smi 2>&1 | head -n 15; } > "$OUT/gpu.txt"
else
  echo "nvidia-smi: not found on this host" > "$OUT/gpu.txt"
fi
head -n 2 "$OUT/gpu.txt"

# 3. Kernels: the engine jar's, unless the sources changed since bundling or the jar has none
fatbin_opt=()
# bundle.sh wrote the kernels' hash when the engine jar carries a fatbin built from them, "none" otherwise.
want=$(cat kernels/cu/*.cu kernels/cu/*.cuh | sha256sum | cut -c1-24)
have=$(cat "$gpu/kernels.sha" 2>/dev/null || echo none)
if [[ $want != "$have" ]]; then
  say "building kernels here (the engine jar's kernels: $have, sources: $want) ..."
  if JTENSOR_CUDA_ARCHS=${JTENSOR_CUDA_ARCHS:-90} JTENSOR_KERNEL_CACHE=/tmp/jtensor-kernels \
       bash scripts/build-kernels.sh "$gpu/jtensor.fatbin" /tmp/jtensor-kernel-reports > "$OUT/kernels-build.txt" 2>&1; then
    [[ -f $gpu/jtensor.fatbin ]] && fatbin_opt=(-Djtensor.cuda.fatbin="$gpu/jtensor.fatbin")
    tail -n 3 "$OUT/kernels-build.txt"
  else
    say "kernel build FAILED (see kernels-build.txt)"; tail -n 20 "$OUT/kernels-build.txt"
  fi
fi

CP=$( (ls "$gpu"/lib/*.jar; ls -d "$gpu"/tests/*/) | tr '\n' ':')
TESTS=$(ls -d "$gpu"/tests/*/ | tr '\n' ':')
read -r -a extra_opts <<< "${JTENSOR_JAVA_OPTS:-}"
JOPTS=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g "${fatbin_opt[@]}" "${extra_opts[@]}")
launcher=(-jar "$gpu/junit-platform-console-standalone.jar" execute --disable-banner --disable-ansi-colors --details=tree --class-path "$CP")

# 4. Tests. First the CUDA test classes, each in its own JVM (a kernel fault poisons its CUDA context, and would
# fail every later test of the JVM) with synchronous launches, so that a fault is reported by the launch of the
# kernel that made it. Then each module in its own JVM from the module directory, as Maven's surefire runs them.
if [[ ${JTENSOR_SKIP_TESTS:-0} != 1 ]]; then
  : > "$OUT/tests.txt"
  start=$(date +%s)
  budget=${JTENSOR_TEST_TIMEOUT:-420}
  exclude=()
  if [[ -z ${JTENSOR_TEST_SELECT:-} && -d $gpu/tests/engine/io/jtensor/backend/cuda ]]; then
    exclude=(--exclude-classname '.*GpuTest')
    for f in "$gpu"/tests/engine/io/jtensor/backend/cuda/*GpuTest.class; do
      cls=io.jtensor.backend.cuda.$(basename "$f" .class)
      left=$(( budget - ($(date +%s) - start) ))
      (( left < 10 )) && { echo "### $cls: SKIPPED, test time budget spent" >> "$OUT/tests.txt"; continue; }
      # a class gets at most JTENSOR_CLASS_TIMEOUT s, so that a kernel that hangs cannot eat the others' time
      cap=${JTENSOR_CLASS_TIMEOUT:-90}
      echo "### $cls" >> "$OUT/tests.txt"
      (cd "$root/engine" && CUDA_LAUNCH_BLOCKING=${JTENSOR_LAUNCH_BLOCKING:-1} timeout "$(( left < cap ? left : cap ))" "$JAVA" "${JOPTS[@]}" \
        "${launcher[@]}" --select-class "$cls") >> "$OUT/tests.txt" 2>&1
      rc=$?
      say "$(basename "$f" .class): exit $rc$([[ $rc == 124 ]] && echo ' (TIMED OUT)') after $(( $(date +%s) - start )) s"
    done
  fi
  for dir in "$gpu"/tests/*/; do
    m=$(basename "$dir")
    left=$(( budget - ($(date +%s) - start) ))
    if (( left < 10 )); then say "no time left for $m tests"; echo "### $m: SKIPPED, test time budget spent" >> "$OUT/tests.txt"; continue; fi
    echo "### ${JTENSOR_TEST_SELECT:+selected tests: $JTENSOR_TEST_SELECT (from module }$m${JTENSOR_TEST_SELECT:+)}" >> "$OUT/tests.txt"
    # shellcheck disable=SC2086
    (cd "$root/$m" 2>/dev/null || cd "$root"; timeout "$left" "$JAVA" "${JOPTS[@]}" "${launcher[@]}" \
      ${JTENSOR_TEST_SELECT:---scan-class-path "$dir"} "${exclude[@]}") >> "$OUT/tests.txt" 2>&1
    rc=$?
    say "$m tests: exit $rc$([[ $rc == 124 ]] && echo ' (TIMED OUT)') after $(( $(date +%s) - start )) s"
    [[ -n ${JTENSOR_TEST_SELECT:-} ]] && break
  done
  (cd "$root/engine" && CUDA_LAUNCH_BLOCKING=${JTENSOR_LAUNCH_BLOCKING:-1} timeout 120 "$JAVA" "${JOPTS[@]}" -Djtensor.cuda.logicalDevices=2 "${launcher[@]}" \
    --select-class io.jtensor.backend.cuda.CudaLogicalDevicesGpuTest --select-class io.jtensor.backend.cuda.CudaDeviceCopyGpuTest) \
    > "$OUT/tests-logical.txt" 2>&1
  say "logical-device tests exit $?"
  # DataParallel on 2 and 4 logical devices of one GPU.
  (cd "$root/nn" && timeout 180 "$JAVA" "${JOPTS[@]}" -Djtensor.cuda.logicalDevices=4 "${launcher[@]}" \
    --select-class io.jtensor.nn.parallel.DataParallelGpuTest) >> "$OUT/tests-logical.txt" 2>&1
  say "data-parallel logical-device tests exit $?"
fi

# 5. Benchmarks
if [[ ${JTENSOR_SKIP_BENCH:-0} != 1 ]]; then
  say "bench ..."
  # shellcheck disable=SC2086
  timeout "${JTENSOR_BENCH_TIMEOUT:-180}" "$JAVA" "${JOPTS[@]}" -cp "$CP" io.jtensor.backend.cuda.GpuBench ${JTENSOR_BENCH_ARGS:-} \
    > "$OUT/bench.txt" 2>&1
  say "bench exit $?"
fi

# 6. Summary (last, so that it is what the caller sees)
echo
echo "================================ summary ================================"
head -n 2 "$OUT/gpu.txt"
if [[ -f $OUT/tests.txt ]]; then
  for k in found successful skipped aborted failed; do
    n=$(grep -E "^\[ +[0-9]+ tests $k +\]" "$OUT/tests.txt" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
    echo "  tests $k: $n"
  done
  grep -E '^### .*SKIPPED' "$OUT/tests.txt" | sed 's/^/  /'
  failed=$(grep -cE '✘' "$OUT/tests.txt" || true)
  if [[ $failed -gt 0 ]]; then
    echo "  failures ($failed, first 25):"
    grep -E '✘' "$OUT/tests.txt" | head -n 25 | sed 's/^/    /'
  fi
  echo "  logical devices: $(grep -E 'tests (successful|failed|aborted)' "$OUT/tests-logical.txt" 2>/dev/null | tr -s ' ' | tr '\n' ' ')"
fi
[[ -f $OUT/bench.txt ]] && grep -E '^\|' "$OUT/bench.txt" | grep -v -- '---'
echo "files in $OUT: $(ls "$OUT" | tr '\n' ' ')"
