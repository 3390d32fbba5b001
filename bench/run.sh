#!/usr/bin/env bash
# Builds the benchmarks and runs JMH; extra arguments go to JMH (e.g. a regex of benchmarks, -p n=1024).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/jdk.sh"
jtensor_find_jdk || exit 2
cd "$root"
# One reactor run, so the jtensor modules resolve to their freshly built jars; each module writes its classpath file.
mvn -q -B -Dstyle.color=never -DskipTests package dependency:build-classpath -pl bench -am \
  -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
cp=$(cat bench/target/classpath.txt)
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp "bench/target/classes:$cp" org.openjdk.jmh.Main "$@"
