#!/usr/bin/env bash
# Compiles every kernels/cu/*.cu into ONE fatbin (one translation unit that includes them all), for the GPU
# architectures in JTENSOR_CUDA_ARCHS (default "80 86 89 90"; 90 is built as sm_90a) plus PTX for JTENSOR_CUDA_PTX (default 90) so that
# newer GPUs can JIT it. Checks ptxas's report for register spills.
#
# Usage: build-kernels.sh [OUT_FATBIN] [REPORT_DIR]
#   OUT_FATBIN  default engine/target/classes/io/jtensor/kernels/jtensor.fatbin (a resource in the engine jar)
#   REPORT_DIR  default engine/target: kernels-ptxas.log (full -Xptxas -v output), kernels-spills.txt
# Environment:
#   JTENSOR_CUDA_ARCHS="90"          fewer real architectures, to compile faster (CI: one arch takes ~30 s of CPU)
#   JTENSOR_CUDA_PTX="90"            virtual architecture whose PTX is embedded ("none" for no PTX)
#   JTENSOR_CUDA_FAIL_ON_SPILL=1     fail (instead of warning loudly) when a kernel spills registers
#   JTENSOR_CUDA_KERNELS=always      when to build (scripts/cuda.sh): always (whenever nvcc exists; the default),
#                                    auto (only where a CUDA driver is installed too: ./jtensor's default), never
#   JTENSOR_CUDA_SKIP=1              do nothing (the same as JTENSOR_CUDA_KERNELS=never)
#   JTENSOR_KERNEL_CACHE=DIR         where finished fatbins are kept by content hash (default ~/.cache/jtensor/kernels),
#                                    so that a clean build with unchanged sources does not recompile
# Without nvcc (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin), or in auto mode without a CUDA driver, it prints one line
# and exits 0: the build then has no CUDA kernels and CudaBackend.create() says so.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/engine/target/classes/io/jtensor/kernels/jtensor.fatbin}
reports=${2:-$root/engine/target}
archs=${JTENSOR_CUDA_ARCHS:-80 86 89 90}
ptx=${JTENSOR_CUDA_PTX:-90}
say() { echo "[build-kernels] $*"; }

if [[ ${JTENSOR_CUDA_SKIP:-0} == 1 ]]; then
  say "skipped (JTENSOR_CUDA_SKIP=1): this build has no CUDA kernels"
  exit 0
fi
# shellcheck source=scripts/cuda.sh
source "$root/scripts/cuda.sh"
plan_rc=0
plan=$(jtensor_kernel_plan "${JTENSOR_CUDA_KERNELS:-always}") || plan_rc=$?
say "$plan"
(( plan_rc == 2 )) && exit 2
if (( plan_rc != 0 )); then
  # The build goes on without CUDA kernels (CudaBackend.create() says so); a fatbin left by an earlier build would
  # be older than the sources, so it goes too.
  rm -f "$out"
  exit 0
fi
nvcc=$(jtensor_find_nvcc)

src=$root/kernels/cu
flags=(-fatbin -O3 -std=c++17 -Xptxas -v --compress-mode=size -I"$src")
# sm_90 machine code is built as sm_90a (Hopper's arch-specific target: wgmma and setmaxnreg, which the
# matmul_wg_* kernels need). It runs on compute capability 9.0 only, which is every sm_90 GPU; the embedded
# compute_90 PTX (for newer GPUs) has those kernels as traps, and Java launches them only on 9.0.
for a in $archs; do
  if [[ $a == 90 ]]; then flags+=(-gencode "arch=compute_90a,code=sm_90a"); else flags+=(-gencode "arch=compute_$a,code=sm_$a"); fi
done
[[ $ptx != none ]] && flags+=(-gencode "arch=compute_$ptx,code=compute_$ptx")

# The cache key covers the sources, the flags and the compiler, so that any change recompiles.
key=$( { cat "$src"/*.cu "$src"/*.cuh; echo "${flags[*]}"; "$nvcc" --version; } | sha256sum | cut -c1-24)
cache=${JTENSOR_KERNEL_CACHE:-${HOME:-/tmp}/.cache/jtensor/kernels}
mkdir -p "$(dirname "$out")" "$reports"
if [[ -f $cache/$key.fatbin ]]; then
  cp "$cache/$key.fatbin" "$out"
  [[ -f $cache/$key.log ]] && cp "$cache/$key.log" "$reports/kernels-ptxas.log"
  say "up to date ($(stat -c %s "$out") bytes, cached as $key; archs: $archs, ptx: $ptx)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$src"/*.cu; do echo "#include \"$f\""; done > "$work/jtensor_all.cu"
log=$reports/kernels-ptxas.log
say "compiling $(ls "$src"/*.cu | wc -l) files for sm_{${archs// /,}} + ptx $ptx with $nvcc ..."
start=$(date +%s)
if ! "$nvcc" "${flags[@]}" --threads "${JTENSOR_NVCC_THREADS:-0}" -o "$work/out.fatbin" "$work/jtensor_all.cu" 2> "$log"; then
  grep -v '^ptxas info' "$log" | grep -v 'bytes stack frame' | head -60 >&2
  say "FAILED; full log: $log"
  exit 1
fi
say "done in $(( $(date +%s) - start )) s: $(grep -c 'Compiling entry function' "$log") kernel builds, $(stat -c %s "$work/out.fatbin") bytes"

# Spills: ptxas prints "Compiling entry function 'NAME' for 'sm_XX'", then "N bytes spill stores, M bytes spill loads".
awk '
  /Compiling entry function/ { fn = $0; sub(/.*function ./, "", fn); arch = fn; sub(/. for .*/, "", fn);
                               sub(/.* for ./, "", arch); sub(/.$/, "", arch) }
  /bytes spill stores/ { st = $0; sub(/.*frame, /, "", st); split(st, w, " "); if (w[1] + 0 > 0 || w[5] + 0 > 0) print fn, arch ":", st }
' "$log" > "$reports/kernels-spills.txt"
if [[ -s $reports/kernels-spills.txt ]]; then
  echo "##########################################################################" >&2
  say "WARNING: $(wc -l < "$reports/kernels-spills.txt") kernel builds spill registers:" >&2
  head -20 "$reports/kernels-spills.txt" >&2
  echo "##########################################################################" >&2
  if [[ ${JTENSOR_CUDA_FAIL_ON_SPILL:-0} == 1 ]]; then say "failing: JTENSOR_CUDA_FAIL_ON_SPILL=1"; exit 1; fi
else
  say "no register spills"
fi
grep -v 'Warning' "$log" | grep -q 'warning' && { say "compiler warnings:"; grep 'warning' "$log" | head -20; } || true

mkdir -p "$cache"
cp "$work/out.fatbin" "$cache/$key.fatbin.tmp" && mv "$cache/$key.fatbin.tmp" "$cache/$key.fatbin"
cp "$log" "$cache/$key.log"
cp "$work/out.fatbin" "$out"
