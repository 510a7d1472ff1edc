#!/usr/bin/env bash
# One sha256 over the Java sources and poms (path and content of each file, in a fixed order), from
# the repository root. pack.sh stores it in .dist/SOURCE_DIGEST; check.sh compares it with the tree
# on the GPU machine (which has no .git), so a stale .dist is named in the summary.
cd "$(dirname "$0")/../.." || exit 1
find pom.xml nag-core/pom.xml nag-gpu/pom.xml nag-bench/pom.xml nag-core/src nag-gpu/src nag-bench/src -type f -print0 2>/dev/null \
  | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64
