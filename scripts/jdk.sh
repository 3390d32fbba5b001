# Sourced by ./jtensor and ./run-tests: finds a JDK >= 25 and sets JAVA_HOME, or explains what is needed.
jtensor_java_major() { # prints the major version of the java binary $1
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n1
}

jtensor_find_jdk() {
  local candidates=()
  [[ -n ${JAVA_HOME:-} ]] && candidates+=("$JAVA_HOME")
  local d
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [[ -d $d ]] && candidates+=("$d")
  done
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for d in "${candidates[@]}"; do
    if [[ -x $d/bin/java && -x $d/bin/javac ]]; then
      local major
      major=$(jtensor_java_major "$d/bin/java")
      if [[ -n $major && $major -ge 25 ]]; then
        export JAVA_HOME=$d
        return 0
      fi
    fi
  done
  cat >&2 <<MSG
jtensor needs a JDK 25 or newer (java and javac), and found none.
Looked at: \$JAVA_HOME${JAVA_HOME:+ ($JAVA_HOME)}, /usr/lib/jvm/*, /opt/java/*, /opt/jdk*, ~/.sdkman, ~/.jdks and the java on PATH.
Install one (for example Eclipse Temurin 25: https://adoptium.net) and set JAVA_HOME to it.
MSG
  return 1
}

jtensor_need_maven() {
  command -v mvn >/dev/null 2>&1 && return 0
  echo "jtensor builds with Apache Maven (3.8 or newer), and 'mvn' is not on PATH." >&2
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing it with apt-get (you are root)..." >&2
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven >/dev/null && return 0
  fi
  echo "Install it (Debian/Ubuntu: sudo apt-get install maven) and run again." >&2
  return 1
}
