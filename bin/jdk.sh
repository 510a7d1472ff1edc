# Sourced by ./nag4j and ./test: finds a JDK 25 without the user exporting anything.
# Order: $JAVA_HOME if it is 25 or newer, then /usr/lib/jvm/*, then java on the PATH.
# Maven 3.8 uses sun.misc.Unsafe through Guice; JDK 25 warns about it on every run.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
nag4j_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1 | cut -d. -f1; }
nag4j_find_jdk() {
  local looked="" c m
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/* \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || { [ -n "$c" ] && looked="$looked $c"; continue; }
    m=$(nag4j_java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$c"; return 0; fi
    looked="$looked $c(java $m)"
  done
  echo "nag4j: no JDK 25 or newer found. Looked at:$looked" >&2
  echo "nag4j: install one (for example the temurin-25-jdk package, into /usr/lib/jvm) or set JAVA_HOME to it." >&2
  return 1
}
