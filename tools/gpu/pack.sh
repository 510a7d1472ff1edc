#!/usr/bin/env bash
# Packs what a GPU machine without a JDK needs into .dist/ (git-ignored, under the device tool's
# 64 MiB carry limit): a jlink runtime, the jars, the launcher .dist/nag4j, and what the CUDA JUnit
# tests need there (.dist/junit: the console launcher, nag-gpu's test classes, nag-core's test-jar,
# and copies of the golden vectors and the JAX seed, which live in ../shared outside the repository).
# Then, on the GPU machine: bash tools/gpu/check.sh (see tools/gpu/README.md).
# The runtime has no java.desktop, so `chart` does not run there: draw the JSON reports back here.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bin/jdk.sh
nag4j_find_jdk
mvn_() { mvn -B -q -ntp -Dstyle.color=never "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; return "${PIPESTATUS[0]}"; }

# package (not install) compiles the test classes too and makes nag-core's test-jar; it is
# incremental, and the full build it does is what ./nag4j would build, so its stamp is set after.
mvn_ -DskipTests package -pl nag-bench,nag-gpu -am
touch nag-bench/target/nag4j.built

# JUnit's console launcher at the platform version of the project's JUnit BOM (5.14.1 -> 1.14.1).
junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
bom="$HOME/.m2/repository/org/junit/junit-bom/$junit/junit-bom-$junit.pom"
platform=$(sed -n '/<artifactId>junit-platform-console<\/artifactId>/{n;s:.*<version>\(.*\)</version>.*:\1:p}' "$bom" 2>/dev/null || true)
[ -n "$platform" ] || case "$junit" in 5.*) platform="1.${junit#5.}";; *) platform="$junit";; esac
console="tools/gpu/target/junit/junit-platform-console-standalone-$platform.jar"
if [ ! -f "$console" ]; then
  mvn_ -N dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform" \
    -DoutputDirectory=tools/gpu/target/junit
fi

rm -rf .dist
mkdir -p .dist/lib .dist/test .dist/shared/golden .dist/shared/seed
# jdk.management: bench-device reads per-thread CPU time (com.sun.management.ThreadMXBean);
# java.xml: the console launcher writes its XML reports with StAX. (jdeps names java.desktop too,
# for `chart` only.)
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,java.management,jdk.management,jdk.incubator.vector,java.xml \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output .dist/jre 2>&1 \
  | { grep -v '^WARNING: Using incubator modules' || true; }
# libjvm.so keeps a 5 MB local symbol table (it only names frames in hs_err crash logs); dropping
# it leaves room under the carry limit. The dynamic symbols the JVM needs stay.
if command -v strip >/dev/null; then strip --strip-unneeded .dist/jre/lib/server/libjvm.so; fi
# DJL's PyTorch natives (about 110 MB) stay here: a GPU visit trains no DJL model, and they would not fit the carry.
for j in nag-bench/target/lib/*.jar; do case "${j##*/}" in pytorch-native-*|pytorch-jni-*) ;; *) cp "$j" .dist/lib/;; esac; done
"$JAVA_HOME/bin/jar" cf .dist/lib/nag-bench.jar -C nag-bench/target/classes .
# NVIDIA's OpenCL on a machine without an ICD loader (containers often have libnvidia-opencl.so.1
# but neither libOpenCL.so.1 nor /etc/OpenCL/vendors): the ocl-icd loader from this machine
# (needs only libc) and a vendors directory naming NVIDIA's library. opencl-env.sh uses them only
# where the machine lacks its own.
mkdir -p .dist/native .dist/opencl-vendors
ldcache=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)
loader=$(awk '/libOpenCL\.so\.1 .*x86-64/ {print $NF; exit}' <<<"$ldcache")
[ -n "$loader" ] && cp -L "$loader" .dist/native/libOpenCL.so.1 || echo "pack.sh: no libOpenCL.so.1 here to pack (apt-get install ocl-icd-libopencl1)" >&2
echo "libnvidia-opencl.so.1" > .dist/opencl-vendors/nvidia.icd
cat > .dist/opencl-env.sh <<'EOS'
# Sourced by .dist/nag4j and .dist/junit with $d set: fills the array nag4j_cl with the JVM option
# naming the packed OpenCL loader when the machine has none, and points OCL_ICD_VENDORS at the
# packed vendors directory when the machine has no vendors directory but has NVIDIA's library.
nag4j_cl=()
nag4j_cache=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null)
nag4j_ldcache() { grep -q "$1" <<<"$nag4j_cache"; }
if ! nag4j_ldcache 'libOpenCL\.so\.1 ' && [ -f "$d/native/libOpenCL.so.1" ]; then
  nag4j_cl=(-Dnag4j.opencl.library="$d/native/libOpenCL.so.1")
fi
if [ -z "${OCL_ICD_VENDORS:-}" ] && ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 \
   && { nag4j_ldcache 'libnvidia-opencl\.so\.1 ' || [ -n "${LD_LIBRARY_PATH:-}" ]; }; then
  export OCL_ICD_VENDORS="$d/opencl-vendors"
fi
EOS
cat > .dist/nag4j <<'EOS'
#!/usr/bin/env bash
d="$(cd "$(dirname "$0")" && pwd)"
. "$d/opencl-env.sh"
exec "$d/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+UseParallelGC "${nag4j_cl[@]}" \
  -cp "$d/lib/*" io.nag4j.bench.cli.Main "$@" 2> >(grep -v '^WARNING: Using incubator modules' >&2)
EOS

# The tests: the test classes as jars (resources included: family_golden.json, fake_libcuda.c).
cp "$console" .dist/test/junit-platform-console-standalone.jar
cp nag-core/target/nag-core-*-tests.jar .dist/test/nag-core-tests.jar
"$JAVA_HOME/bin/jar" cf .dist/test/nag-gpu-tests.jar -C nag-gpu/target/test-classes .
# Golden.goldenDir() is <nag4j.root>/../shared/golden: .dist/junit sets nag4j.root to .dist/root
# (which need not exist) so the tests read the copy in .dist/shared/golden.
shared=../shared
cp "$shared/golden/nag_seed_golden.json" "$shared/golden/README.md" .dist/shared/golden/
# The reference JAX seed (ngc-learn's nag.py, re-indented), for tools/gpu/seed_replay_check.py.
cp "$shared/seed/nag_seed.py" .dist/shared/seed/
# Same JVM options as Surefire's argLine in pom.xml. Arguments go to the console launcher, e.g.
#   .dist/junit --select-class io.nag4j.gpu.ptx.CudaParityTest --reports-dir out/junit
cat > .dist/junit <<'EOS'
#!/usr/bin/env bash
d="$(cd "$(dirname "$0")" && pwd)"
. "$d/opencl-env.sh"
exec "$d/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx4g "${nag4j_cl[@]}" \
  -Dnag4j.root="$d/root" -jar "$d/test/junit-platform-console-standalone.jar" execute \
  --class-path "$d/test/nag-gpu-tests.jar:$d/test/nag-core-tests.jar:$(printf '%s:' "$d"/lib/*.jar)" \
  --disable-banner "$@" 2> >(grep -v '^WARNING: Using incubator modules' >&2)
EOS
chmod +x .dist/nag4j .dist/junit
# What was packed (the GPU machine's copy of the tree has no .git): check.sh prints this.
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- nag-core nag-gpu nag-bench pom.xml || echo '+uncommitted') $(git rev-parse --abbrev-ref HEAD), packed $(date -u '+%Y-%m-%d %H:%M UTC')" > .dist/VERSION
# A digest of the sources the jars were built from: check.sh recomputes it over the tree that travels
# with .dist and flags a .dist packed from other sources (a change made after the last pack.sh).
bash tools/gpu/source-digest.sh > .dist/SOURCE_DIGEST
# The carry limit (64 MiB) covers the working tree that travels with .dist.
.dist/jre/bin/java -version >/dev/null 2>&1 || { echo "pack.sh: the packed runtime does not start" >&2; exit 1; }
size=$(du -sb .dist | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 cat 2>/dev/null | wc -c)
echo "packed .dist: $((size / 1024 / 1024)) MiB ($size bytes), plus $((tree / 1024)) KiB of working tree; the limit is 64 MiB"
if [ $((size + tree)) -ge $((64 * 1024 * 1024)) ]; then echo "pack.sh: .dist and the working tree are over 64 MiB" >&2; exit 1; fi
