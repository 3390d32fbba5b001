# Sourced by scripts/build-kernels.sh and ./jtensor: the one place that decides whether the CUDA kernels are built.
#
# JTENSOR_CUDA_KERNELS (or the Maven property jtensor.cuda.kernels) says when:
#   always  whenever nvcc exists (the Maven build's default: CI, ./run-tests and scripts/gpu/bundle.sh keep it)
#   auto    only where they can be used: nvcc exists AND a CUDA driver (libcuda.so.1) is installed (./jtensor's default)
#   never   not at all (the same as JTENSOR_CUDA_SKIP=1)
# Compiling them takes ~2.5 minutes on two cores, which a machine without a GPU would spend for nothing.

# Prints the nvcc to use (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin); fails when there is none.
jtensor_find_nvcc() {
  local nvcc cand
  nvcc=$(command -v nvcc || true)
  for cand in "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
    [[ -z $nvcc && -x $cand ]] && nvcc=$cand
  done
  [[ -n $nvcc ]] && echo "$nvcc"
}

# Prints where the CUDA driver library libcuda.so.1 is; fails when there is none. Looks where the engine's
# NativeLibraryLocator would find it: the loader's cache, LD_LIBRARY_PATH and the usual system directories. The
# toolkit's stubs/libcuda.so (a link-time stand-in, not a driver) has no .so.1 and never counts.
jtensor_find_cuda_driver() {
  local hit d
  hit=$(/sbin/ldconfig -p 2>/dev/null | awk '$1 == "libcuda.so.1" { print $NF; exit }')
  if [[ -n $hit ]]; then echo "$hit"; return 0; fi
  local IFS=:
  for d in ${LD_LIBRARY_PATH:-} ${CUDA_HOME:+$CUDA_HOME/lib64} /usr/local/cuda/lib64 /usr/local/nvidia/lib64 \
           /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib/wsl/lib; do
    [[ -n $d && -e $d/libcuda.so.1 ]] && { echo "$d/libcuda.so.1"; return 0; }
  done
  return 1
}

# jtensor_kernel_plan MODE: prints one line saying whether the kernels will be built and why; succeeds when they
# will. MODE is always, auto or never (anything else fails with a message).
jtensor_kernel_plan() {
  local mode=${1:-always} nvcc driver
  case $mode in
    always|auto|never) ;;
    *) echo "JTENSOR_CUDA_KERNELS=$mode: expected always, auto or never"; return 2 ;;
  esac
  if [[ $mode == never ]]; then
    echo "CUDA kernels: not built (JTENSOR_CUDA_KERNELS=never)"; return 1
  fi
  if ! nvcc=$(jtensor_find_nvcc); then
    echo "CUDA kernels: not built (nvcc not found on PATH, \$CUDA_HOME/bin or /usr/local/cuda/bin)"; return 1
  fi
  if [[ $mode == always ]]; then
    echo "CUDA kernels: building with $nvcc (JTENSOR_CUDA_KERNELS=always)"; return 0
  fi
  if driver=$(jtensor_find_cuda_driver); then
    echo "CUDA kernels: building with $nvcc (CUDA driver at $driver)"; return 0
  fi
  echo "CUDA kernels: not built (no CUDA driver, libcuda.so.1, on this machine; JTENSOR_CUDA_KERNELS=always builds them anyway)"
  return 1
}
