#!/usr/bin/env bash
# Packs what a GPU machine without a JDK needs into .dist/ (git-ignored): a jlink runtime, the jars
# and a launcher. Carry .dist to that machine (the device tool's `carry`, under 64 MiB), then run
#   .dist/nag4j devices; .dist/nag4j agree --backend cuda:0 --json agree.json; .dist/nag4j bench-device --backend cuda:0
# The runtime has no java.desktop, so `chart` does not run there: draw the JSON reports back here.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bin/jdk.sh
nag4j_find_jdk
./nag4j --version >/dev/null   # builds nag-bench and its jars if needed
rm -rf .dist
mkdir -p .dist/lib
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,java.management,jdk.incubator.vector \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output .dist/jre
cp nag-bench/target/lib/*.jar .dist/lib/
"$JAVA_HOME/bin/jar" cf .dist/lib/nag-bench.jar -C nag-bench/target/classes .
cat > .dist/nag4j <<'EOS'
#!/usr/bin/env bash
d="$(cd "$(dirname "$0")" && pwd)"
exec "$d/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+UseParallelGC \
  -cp "$d/lib/*" io.nag4j.bench.cli.Main "$@" 2> >(grep -v '^WARNING: Using incubator modules' >&2)
EOS
chmod +x .dist/nag4j
du -sh .dist
