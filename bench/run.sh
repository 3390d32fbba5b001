#!/usr/bin/env bash
# Builds the benchmarks and runs JMH; extra arguments go to JMH (e.g. a regex of benchmarks, -p n=1024).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/jdk.sh"
jtensor_find_jdk || exit 2
cd "$root"
mvn -q -B -DskipTests package -pl bench -am
cp=$(mvn -q -B dependency:build-classpath -pl bench -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=runtime)
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp "bench/target/classes:$cp" org.openjdk.jmh.Main "$@"
