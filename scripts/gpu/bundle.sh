#!/usr/bin/env bash
# Builds everything on this machine (JDK + Maven, no GPU needed) and packs what a GPU host without a JDK or network
# needs into the ignored folder .gpu/ (kept under 60 MB):
#   .gpu/jre.tar.xz                              a jlinked Java 25 runtime (shared/gpu/pack-jre.sh)
#   .gpu/lib/*.jar                               every module's jar and its dependencies (JUnit left to the launcher)
#   .gpu/tests/<module>/                         every module's test classes (directories)
#   .gpu/junit-platform-console-standalone.jar   the JUnit Platform console launcher
#   .gpu/kernels.sha                             hash of kernels/cu at build time (run-on-gpu.sh rebuilds on change)
# Then, on the GPU host: bash scripts/gpu/run-on-gpu.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
say() { echo "[bundle] $*"; }

if [[ -f scripts/jdk.sh ]]; then
  # shellcheck source=/dev/null
  source scripts/jdk.sh
  jtensor_find_jdk
elif [[ -z ${JAVA_HOME:-} ]]; then
  export JAVA_HOME=$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -n1)
fi
say "JDK: $JAVA_HOME"
junit_console_version=1.14.4  # matches junit-bom 5.14.4 in the parent pom

modules=(bindings engine autograd nn cli bench)
out=$root/.gpu
rm -rf "$out/lib" "$out/tests"
mkdir -p "$out/lib" "$out/tests"
# One reactor run, so that copy-dependencies resolves the modules' own jars from the build rather than from ~/.m2.
build=(-DskipTests package dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$out/lib"
       -DexcludeGroupIds=io.jtensor,org.junit.jupiter,org.junit.platform,org.junit,org.opentest4j,org.apiguardian)
say "mvn package + copy-dependencies (tests compiled, not run) ..."
# Offline first; the dependency plugin's own dependencies may need one online fetch.
mvn -o -q -B "${build[@]}" || { say "offline build failed; retrying online"; mvn -q -B "${build[@]}"; }

for m in "${modules[@]}"; do
  [[ -d $m/target ]] || continue
  for j in "$m"/target/*.jar; do
    [[ -e $j && $j != *-tests.jar && $j != *-sources.jar ]] && cp "$j" "$out/lib/"
  done
  # Test classes stay directories: the jlinked runtime has no zip file system, which JUnit needs to scan jars.
  if [[ -d $m/target/test-classes ]] && [[ -n $(ls -A "$m/target/test-classes" 2>/dev/null) ]]; then
    cp -r "$m/target/test-classes" "$out/tests/$m"
  fi
done

launcher=$out/junit-platform-console-standalone.jar
if [[ ! -f $launcher ]]; then
  say "fetching junit-platform-console-standalone $junit_console_version ..."
  art=org.junit.platform:junit-platform-console-standalone:$junit_console_version
  mvn -o -q -B dependency:copy -Dartifact="$art" -DoutputDirectory="$out" -Dmdep.stripVersion=true >/dev/null 2>&1 \
    || mvn -q -B dependency:copy -Dartifact="$art" -DoutputDirectory="$out" -Dmdep.stripVersion=true
fi

if [[ ! -f $out/jre.tar.xz ]]; then
  pack=""
  for p in "$root/shared/gpu/pack-jre.sh" /work/shared/gpu/pack-jre.sh; do [[ -f $p ]] && { pack=$p; break; }; done
  [[ -n $pack ]] || { say "pack-jre.sh not found (shared/gpu/pack-jre.sh)"; exit 2; }
  say "packing a JRE with $pack ..."
  bash "$pack" "$out" >/dev/null
fi

# The kernels' hash when the engine jar carries a fatbin built from the current sources, else "none".
if "$JAVA_HOME/bin/jar" --list --file "$(ls "$out"/lib/jtensor-engine-*.jar | head -n1)" | grep -q 'io/jtensor/kernels/jtensor.fatbin'; then
  cat kernels/cu/*.cu kernels/cu/*.cuh | sha256sum | cut -c1-24 > "$out/kernels.sha"
  say "engine jar carries the CUDA kernels (io/jtensor/kernels/jtensor.fatbin)"
else
  echo none > "$out/kernels.sha"
  say "engine jar has NO CUDA kernels (no nvcc here); run-on-gpu.sh will build them on the GPU host"
fi
size=$(du -sm "$out" | cut -f1)
say "done: $out is ${size} MB ($(ls "$out/lib" | wc -l) jars in lib, test classes of: $(ls "$out/tests" | tr '\n' ' '))"
if (( size >= 60 )); then say "WARNING: over the 60 MB budget"; exit 1; fi
