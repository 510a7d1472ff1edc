#!/usr/bin/env bash
# Writes the JVM argfile TornadoVM needs (JVMCI, Graal on the upgrade module path, its modules,
# exports and opens) from the SDK's own template: ${TORNADOVM_HOME} filled in, and the working
# directory dropped from --module-path (upstream writes ".:", which would load any jar lying in
# the directory a user runs from). Used by ./nag4j and by nag-tornado's tests, so both start the
# same JVM. The SDK may be read-only: nothing is written there.
# usage: bin/tornado-argfile.sh TORNADOVM_HOME OUT_FILE [KERNEL_DIR]
# KERNEL_DIR, if given, is created: the class path directory for the Java kernels nag4j generates.
set -euo pipefail
home=${1:?usage: tornado-argfile.sh TORNADOVM_HOME OUT_FILE}
out=${2:?usage: tornado-argfile.sh TORNADOVM_HOME OUT_FILE}
template="$home/tornado-argfile.template"
if [ ! -r "$template" ]; then
  echo "nag4j: TORNADOVM_HOME=$home has no tornado-argfile.template: point it at a TornadoVM 5.2 SDK" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")" ${3:+"$3"}
tmp="$out.tmp.$$"
sed -e "s|\${TORNADOVM_HOME}|$home|g" -e 's|^--module-path \.:|--module-path |' "$template" >"$tmp"
if cmp -s "$tmp" "$out"; then rm -f "$tmp"; else mv -f "$tmp" "$out"; fi
