#!/usr/bin/env bash
# One GPU visit for issue 5, as one command: run from the repository root on the GPU machine,
# with .dist/ carried from tools/gpu/pack.sh:
#     bash tools/gpu/check.sh                         # writes under $OUT (default ./gpu-out)
#     bash tools/gpu/check.sh --dry-run-backend opencl:0   # here, PoCL standing in for CUDA
# Each part runs under its own timeout with its own log, a failed or hung part does not stop the
# later ones, and $OUT/summary.txt gets one line per part as it finishes (an --only rerun appends to a summary
# already there; under the device tool $OUT starts empty, so a rerun's files hold only the rerun). The whole run keeps to a
# time budget (--budget, default 390 s): a part never gets more than what is left of it.
# Options: --dry-run-backend SPEC (or GPU_CHECK_DRY_RUN_BACKEND), --budget S (GPU_CHECK_BUDGET),
#          --only part,part (run only these). Exit 0 when no part FAILed or timed out.
# What each part and file is: tools/gpu/README.md.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

DRY="${GPU_CHECK_DRY_RUN_BACKEND:-}"
BUDGET="${GPU_CHECK_BUDGET:-390}"
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run-backend) DRY="$2"; shift 2;;
    --dry-run-backend=*) DRY="${1#*=}"; shift;;
    --budget) BUDGET="$2"; shift 2;;
    --budget=*) BUDGET="${1#*=}"; shift;;
    --only) ONLY="$2"; shift 2;;
    --only=*) ONLY="${1#*=}"; shift;;
    -h|--help) sed -n '2,12p' "$0"; exit 0;;
    *) echo "check.sh: unknown argument $1 (see --help)" >&2; exit 2;;
  esac
done

# The device tool brings back at most 8 files from $OUT (16 MiB each, plain names). So the parts
# write into a work folder, and after every part publish() puts into $OUT: summary.txt, the whole
# work folder as gpu-check.tgz, and copies of the six files most read (see tools/gpu/README.md).
RESULTS="${OUT:-./gpu-out}"
mkdir -p "$RESULTS" || exit 1
RESULTS="$(cd "$RESULTS" && pwd)"
OUT="${GPU_CHECK_WORK:-$(mktemp -d /tmp/nag4j-gpu-check.XXXXXX)}"   # the parts' $OUT
mkdir -p "$OUT" || exit 1
OUT="$(cd "$OUT" && pwd)"
ROOT="$(pwd)"
DIST="$ROOT/.dist"
if [ -n "$DRY" ]; then DEV="$DRY"; TAG="dry-${DRY//:/}"; else DEV="cuda:0"; TAG="cuda"; fi
PY="${GPU_CHECK_PYTHON:-$(command -v python3 || true)}"   # another interpreter: GPU_CHECK_PYTHON=/usr/bin/python3
export OUT ROOT DIST DEV TAG DRY PY PYTHONUNBUFFERED=1
T0=$(date +%s)
SUMMARY="$OUT/summary.txt"
FAILED=0
[ -n "$ONLY" ] && [ -s "$RESULTS/summary.txt" ] && [ ! -s "$SUMMARY" ] && cp "$RESULTS/summary.txt" "$SUMMARY"

publish() {
  local f tmp="$OUT.tgz.tmp"
  # GNU tar exits 1 for "file changed as we read it" (a log still written after a timeout): the archive is still good.
  tar czf "$tmp" --exclude="./*/work" -C "$OUT" . 2>/dev/null; [ $? -le 1 ] && mv -f "$tmp" "$RESULTS/gpu-check.tgz"
  cp -f "$SUMMARY" "$RESULTS/summary.txt"
  for f in nvidia-smi.csv devices.txt "agree-$TAG.json" "bench-$TAG.json" d2d-bandwidth.json; do
    [ -s "$OUT/$f" ] && cp -f "$OUT/$f" "$RESULTS/$f"
  done
  [ -s "$OUT/torch-order/table.txt" ] && cp -f "$OUT/torch-order/table.txt" "$RESULTS/torch-order-table.txt"
  return 0
}

{
  [ -n "$ONLY" ] && echo "# rerun: --only $ONLY"
  echo "# nag4j GPU check, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), host $(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null), .dist from $(cat "$DIST/VERSION" 2>/dev/null || echo '?')"
  if [ -n "$DRY" ]; then echo "# DRY RUN: $DRY stands in for cuda:0 (no NVIDIA GPU); CUDA-only requirements are off"; fi
  if [ -s "$DIST/SOURCE_DIGEST" ] && [ "$(cat "$DIST/SOURCE_DIGEST")" != "$(bash "$ROOT/tools/gpu/source-digest.sh")" ]; then
    echo "# STALE .dist: packed from other sources than this tree's (run tools/gpu/pack.sh again before a visit)"
  fi
  echo "# device under test: $DEV; budget ${BUDGET}s; every part's log and files are in gpu-check.tgz (work folder $OUT)"
  echo "# status  part               secs  detail"
} >> "$SUMMARY"

if [ ! -x "$DIST/nag4j" ] && [ ! -f "$DIST/nag4j" ]; then
  echo "FAIL    setup                 0  no .dist/nag4j: run tools/gpu/pack.sh where a JDK is and carry .dist" | tee -a "$SUMMARY"
  publish; exit 1
fi
# A copy that lost its modes would stop every part; give them back (cheap, idempotent).
chmod +x "$DIST/nag4j" "$DIST/junit" "$DIST"/jre/bin/* "$DIST/jre/lib/jspawnhelper" 2>/dev/null
# nag4j opens libcuda.so.1 by name (dlopen). Where the driver's folder is mounted outside the
# loader's cache, name it (never the toolkit's stubs, whose cuInit always fails).
# (The cache is read into a variable first: `ldconfig -p | grep -q` under pipefail fails when grep stops early.)
LDCACHE=$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null)
export LDCACHE
if ! grep -q 'libcuda\.so\.1 ' <<<"$LDCACHE"; then
  llp="${LD_LIBRARY_PATH:-}"
  for d in ${llp//:/ } /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/cuda/compat; do
    if [ -e "$d/libcuda.so.1" ]; then
      [[ ":${LD_LIBRARY_PATH:-}:" == *":$d:"* ]] || export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      echo "# libcuda.so.1 is not in the loader's cache; found in $d (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)" >> "$SUMMARY"
      break
    fi
  done
fi

# --- parts: each is a function run as `timeout T bash -c part_NAME`; exit 0 pass, 77 skip, 3 differs
# (a documented claim does not hold), anything else fails. A part writes one line of detail to $DETAIL.

detail() { printf '%s\n' "$*" > "$DETAIL"; }
skip() { detail "$*"; echo "SKIP: $*"; exit 77; }

part_env() {
  date -u; uname -a; echo "cores: $(nproc)"; free -g 2>/dev/null; df -h . 2>/dev/null | tail -1
  "$DIST/jre/bin/java" -version 2>&1
  local mods=""
  if [ -n "$PY" ]; then
    "$PY" --version
    mods=$("$PY" "$ROOT/tools/gpu/gpukit.py" --line 2>&1)  # imports torch and jax once: seconds
    echo "python modules: $mods"
  fi
  echo "--- OpenCL ICDs:"; ls -l /etc/OpenCL/vendors 2>&1 && cat /etc/OpenCL/vendors/*.icd 2>/dev/null
  echo "--- driver libraries:"; grep -E 'libcuda\.so|libOpenCL\.so|libnvidia-opencl|libnvidia-ptxjitcompiler' <<<"$LDCACHE" || echo "(none in ldconfig)"
  echo "--- tools:"; for t in nvidia-smi ptxas nvcc gcc clinfo; do printf '%-11s %s\n' "$t" "$(command -v $t || echo -)"; done
  echo "--- env:"; env | grep -E '^(CUDA|NVIDIA|XLA|JAX|TORCH|LD_LIBRARY)' | sort
  detail "$(nproc) cores; $("$DIST/jre/bin/java" -version 2>&1 | head -1); python3: ${mods:-none}"
}

part_nvidia_smi() {
  [ -n "$DRY" ] && skip "dry run: no NVIDIA GPU here"
  command -v nvidia-smi >/dev/null || { detail "nvidia-smi not found"; exit 1; }
  nvidia-smi -q > "$OUT/nvidia-smi-q.txt" 2>&1 || { detail "nvidia-smi -q failed: $(tail -1 "$OUT/nvidia-smi-q.txt")"; exit 1; }
  # An older driver may not know a field (then the whole query fails): fall back to fewer.
  nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.limit,pstate,mig.mode.current \
    --format=csv > "$OUT/nvidia-smi.csv" 2>&1 ||
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv > "$OUT/nvidia-smi.csv" 2>&1
  cat "$OUT/nvidia-smi.csv"
  nvidia-smi
  detail "$(paste -sd';' "$OUT/nvidia-smi.csv" | tr -s ' ')"
}

part_devices() {
  "$DIST/nag4j" devices | tee "$OUT/devices.txt"
  local rc=${PIPESTATUS[0]} line
  line=$(grep -E "^${DEV}[[:space:]]" "$OUT/devices.txt" | head -1)
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
    detail "$DEV not listed (exit $rc): $(grep -E "^${DEV%%:*}" "$OUT/devices.txt" | head -1)"; exit 1
  fi
  detail "$(echo "$line" | tr -s ' ')"
}

part_kernels_ptx() {
  local d="$OUT/ptx" bad=0 n=0 opt mode f sm
  mkdir -p "$d"
  # 14 JVM starts, four at a time (one at a time without xargs).
  local p=4; command -v xargs >/dev/null || p=0
  for opt in nag sgd adam momentum adamw rmsprop adagrad; do for mode in exact fast; do echo "$opt $mode"; done; done |
    if [ $p -gt 0 ]; then
      xargs -P $p -n 2 sh -c '"$0" kernels --optimizer "$2" --target ptx --mode "$3" > "$1/$2-$3.ptx" 2> "$1/$2-$3.err"' "$DIST/nag4j" "$d"
    else
      while read -r opt mode; do "$DIST/nag4j" kernels --optimizer "$opt" --target ptx --mode "$mode" > "$d/$opt-$mode.ptx" 2> "$d/$opt-$mode.err"; done
    fi
  for f in "$d"/*.ptx; do
    n=$((n + 1))
    if ! grep -q '^\.version' "$f" || ! grep -q '^\.target' "$f" || ! grep -q '\.entry' "$f"; then
      echo "BAD $f: no .version/.target/.entry ($(cat "${f%.ptx}.err"))"; bad=$((bad + 1)); continue
    fi
    case "$f" in *-exact.ptx)
      if grep -nE '\.ftz|\.approx|\b(add|sub|mul)\.f32\b' "$f"; then echo "BAD $f: .ftz, .approx or an f32 add/sub/mul without .rn"; bad=$((bad + 1)); fi;;
    esac
  done
  echo "$n PTX files, $bad bad; $(grep -h '^\.version\|^\.target' "$d/nag-exact.ptx" | tr '\n' ' ')"
  sm=sm_90   # the device's own when nvidia-smi told its compute capability ("9.0")
  local cc; cc=$(tail -1 "$OUT/nvidia-smi.csv" 2>/dev/null | cut -d, -f3 | tr -d ' ')
  if [[ "$cc" =~ ^[0-9]+\.[0-9]+$ ]]; then sm="sm_${cc/./}"; fi
  local asm="ptxas not on the PATH"
  if command -v ptxas >/dev/null; then
    local abad=0
    for f in "$d"/*.ptx; do ptxas --gpu-name "$sm" -o /dev/null "$f" || { echo "ptxas failed on $f"; abad=$((abad + 1)); }; done
    asm="ptxas --gpu-name $sm: $abad failed"; bad=$((bad + abad))
  fi
  detail "$n PTX files (7 optimizers x exact/fast), $bad bad; $(grep -h '^\.version\|^\.target' "$d/nag-exact.ptx" | tr '\n' ' '); $asm"
  [ "$bad" -eq 0 ]
}

# JUnit through the console launcher; the detail is its own count.
junit() { # name, then console-launcher args
  local name="$1"; shift
  "$DIST/junit" --disable-ansi-colors --details=tree --fail-if-no-tests --reports-dir "$OUT/$name" "$@"
  local rc=$?
  local n; n() { sed -n "s/^\[ *\([0-9]*\) tests $1 *\]\$/\1/p" "$OUT/$name.log" | tail -1; }
  detail "$(n found) tests: $(n successful) passed, $(n failed) failed, $(n aborted) skipped by an assumption (exit $rc; XML reports in $name/)"
  return $rc
}

part_junit_cuda() {
  local req=""
  if [ -z "$DRY" ] || [ "${GPU_CHECK_REQUIRE_CUDA:-}" = 1 ]; then req=1; fi
  echo "NAG4J_REQUIRE_CUDA=${req:-<unset: dry run, the CUDA tests skip>}"
  NAG4J_REQUIRE_CUDA="$req" junit junit-cuda \
    --select-class io.nag4j.gpu.ptx.CudaDriverTest --select-class io.nag4j.gpu.ptx.CudaContextTest \
    --select-class io.nag4j.gpu.ptx.CudaParityTest --select-class io.nag4j.gpu.ptx.CudaDeviceOptimizerTest
}

# OpenCL device specs worth a parity run: NVIDIA's platform on the GPU machine; the stand-in in a dry run.
opencl_specs() {
  local pat="${GPU_CHECK_OPENCL_MATCH:-NVIDIA}"
  [ -n "$DRY" ] && pat="${GPU_CHECK_OPENCL_MATCH:-.}"
  grep -E '^opencl:[0-9]+[[:space:]]' "$OUT/devices.txt" 2>/dev/null | grep -iE "$pat" | awk '{print $1}'
}

part_junit_opencl() {
  [ -s "$OUT/devices.txt" ] || skip "no devices.txt (the devices part did not run)"
  local specs; specs=$(opencl_specs)
  [ -n "$specs" ] || skip "no OpenCL device of an NVIDIA platform in devices.txt"
  [ "$(echo "$specs" | head -1)" = "opencl:0" ] || skip "the OpenCL tests use opencl:0, which is not NVIDIA's ($(echo $specs))"
  NAG4J_REQUIRE_OPENCL=1 junit junit-opencl \
    --select-class io.nag4j.gpu.opencl.OpenClContextTest --select-class io.nag4j.gpu.opencl.OpenClParityTest \
    --select-class io.nag4j.gpu.opencl.OpenClDeviceOptimizerTest
}

agree_detail() { # json -> "nag 0, sgd 0, ... differing"
  [ -n "$PY" ] && [ -s "$1" ] && "$PY" - "$1" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
rs = d.get("results", [])
bad = [r for r in rs if r.get("differing")]
dev = rs[0]["backend"] if rs else d.get("backend")
if bad:
    print("%d of %d optimizers DIFFER on %s: %s" % (len(bad), len(rs), dev, "; ".join(
        "%s %d/%d first %s" % (r["optimizer"], r["differing"], r["compared"], r.get("firstDifference")) for r in bad)))
else:
    print("%d optimizers bitwise identical to the reference on %s, %d steps, %d values" % (
        len(rs), dev, rs[0]["steps"] if rs else 0, sum(r["compared"] for r in rs)))
EOP
}

part_agree() {
  "$DIST/nag4j" agree --backend "$DEV" --steps 300 --json "$OUT/agree-$TAG.json"
  local rc=$? d
  d=$(agree_detail "$OUT/agree-$TAG.json" 2>/dev/null) || d="no JSON; log ends: $(tail -1 "$OUT/agree.log")"
  detail "$d (exit $rc)"
  return $rc
}

part_agree_opencl() {
  [ -s "$OUT/devices.txt" ] || skip "no devices.txt (the devices part did not run)"
  local specs s rc=0 r out=""
  specs=$(opencl_specs)
  [ -n "$specs" ] || skip "no OpenCL device of an NVIDIA platform in devices.txt"
  for s in $specs; do
    echo "=== agree on $s"
    "$DIST/nag4j" agree --backend "$s" --steps 300 --json "$OUT/agree-${s//:/}.json"; r=$?
    [ $r -eq 0 ] || rc=$r
    out="$out$s: $(agree_detail "$OUT/agree-${s//:/}.json" 2>/dev/null || echo "no JSON, see agree-opencl.log") (exit $r); "
  done
  detail "$out"
  return $rc
}

part_bench() {
  local sizes="${GPU_CHECK_BENCH_SIZES:-1024,1M,64M}" extra=() note=""
  [ -n "$DRY" ] && sizes="${GPU_CHECK_BENCH_SIZES:-1024,1M}"
  if "$DIST/nag4j" bench-device --help 2>/dev/null | grep -q -- '--resnet50'; then
    extra=(--resnet50)
  else
    note="NOTE: this nag4j's bench-device has no --resnet50; ran without it. "
    echo "$note"
  fi
  "$DIST/nag4j" bench-device --backend "$DEV" --sizes "$sizes" "${extra[@]}" --json "$OUT/bench-$TAG.json"
  local rc=$?
  local s=""
  [ -n "$PY" ] && [ -s "$OUT/bench-$TAG.json" ] && s=$("$PY" - "$OUT/bench-$TAG.json" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
parts = ["%s n=%d: wall %.1f us, resident %.1f us, kernel %.1f GB/s" % (r.get("paramSet", ""), r["elements"],
         r["wallMedianNs"] / 1e3, r.get("residentWallMedianNs", 0) / 1e3, r.get("kernelGBps", 0)) for r in d.get("rows", [])]
bw = d.get("bandwidth")
if bw:
    parts.append("d2d copy %.1f GB/s, bare kernel %.1f GB/s at n=%d" % (bw["copyGBps"], bw["kernelGBps"], bw["elements"]))
for k, v in (d.get("targets") or {}).items():
    parts.append("target %s: %s" % (k, v))
print("; ".join(parts))
EOP
)
  [ -z "$s" ] && s="no JSON; log ends: $(grep -v '^\s*$' "$OUT/bench.log" | tail -1 | head -c 300)"
  detail "${note}sizes $sizes${extra:+ + resnet50}: $s (exit $rc)"
  return $rc
}

part_d2d_bandwidth() {
  [ -n "$PY" ] || skip "no python3"
  "$PY" - "$OUT/d2d-bandwidth.json" <<'EOP'
# The device's own device-to-device copy bandwidth (the issue's yardstick: 90% of it at 64M elements).
import json, sys
try:
    import torch
except Exception as e:
    print("SKIP: PyTorch is not importable (%s)" % e); sys.exit(77)
if not torch.cuda.is_available():
    print("SKIP: torch sees no CUDA device"); sys.exit(77)
res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": []}
for mib in (256, 1024, 4096):
    n = mib * 2**20 // 4
    a = torch.empty(n, dtype=torch.float32, device="cuda").fill_(1.0)
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    reps = 20
    s.record()
    for _ in range(reps):
        b.copy_(a)
    e.record(); torch.cuda.synchronize()
    ms = s.elapsed_time(e) / reps
    gbps = 2 * a.numel() * 4 / (ms / 1e3) / 1e9   # read + write
    res["rows"].append({"MiB": mib, "ms": ms, "GBps_read_plus_write": gbps})
    print("%5d MiB copy: %.3f ms, %.0f GB/s (read + write)" % (mib, ms, gbps))
    del a, b
    torch.cuda.empty_cache()
json.dump(res, open(sys.argv[1], "w"), indent=1)
EOP
  local rc=$?
  [ $rc -eq 0 ] && detail "$(grep 'MiB copy' "$OUT/d2d-bandwidth.log" | tr -s ' ' | paste -sd ';') (torch, cudaMemcpy D2D)"
  [ $rc -eq 77 ] && detail "$(tail -1 "$OUT/d2d-bandwidth.log")"
  return $rc
}

python_check() { # script, out dir name
  [ -n "$PY" ] || skip "no python3"
  "$PY" -c 'import numpy' 2>/dev/null || skip "python3 has no numpy"
  # A hung JAX or torch child must not take the part's asserted nag4j results with it: 40 s each, well inside the part's cap.
  "$PY" "$ROOT/tools/gpu/$1" --nag4j "$DIST/nag4j" --backends "cpu,$DEV" --out "$OUT/$2" --summary "$DETAIL" --child-timeout 40
}

part_seed_replay() { python_check seed_replay_check.py seed-replay; }
part_torch_order() { python_check torch_order_check.py torch-order; }

export -f detail skip part_env part_nvidia_smi part_devices part_kernels_ptx junit part_junit_cuda opencl_specs \
  part_junit_opencl agree_detail part_agree part_agree_opencl part_bench part_d2d_bandwidth python_check \
  part_seed_replay part_torch_order

run_part() { # name, cap in seconds
  local name="$1" cap="$2"
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then return; fi
  local left=$((BUDGET - ($(date +%s) - T0))) t status
  if [ "$left" -lt 10 ]; then
    printf '%-7s %-16s %6s  %s\n' SKIP "$name" 0 "the time budget (${BUDGET}s) is spent" | tee -a "$SUMMARY"; publish; return
  fi
  t=$(( cap < left ? cap : left ))
  export DETAIL="$OUT/.detail-$name"
  rm -f "$DETAIL"
  local s=$(date +%s)
  echo "=== $name (timeout ${t}s)" >&2
  timeout -k 10 "$t" bash -c "part_${name//-/_}" > "$OUT/$name.log" 2>&1
  local rc=$? dt=$(( $(date +%s) - s ))
  case $rc in
    0) status=PASS;;
    77) status=SKIP;;
    3) status=DIFFERS;;
    124|137) status=TIMEOUT; FAILED=1;;
    *) status=FAIL; FAILED=1;;
  esac
  local d; d=$(head -c 1500 "$DETAIL" 2>/dev/null | tr '\n' ' ')
  [ -z "$d" ] && [ "$status" != PASS ] && d="exit $rc; log ends: $(grep -v '^\s*$' "$OUT/$name.log" | tail -2 | tr '\n' ' ' | head -c 400)"
  [ "$status" = TIMEOUT ] && d="killed after ${t}s; ${d}"
  printf '%-7s %-16s %6s  %s\n' "$status" "$name" "$dt" "$d" | tee -a "$SUMMARY"
  rm -f "$DETAIL"
  publish
}

# name, cap (s). Typical times on an H100-class machine are well under the caps.
run_part env 40
run_part nvidia-smi 20
run_part devices 30
run_part kernels-ptx 60
run_part junit-cuda 120
run_part junit-opencl 90
run_part agree 90
run_part agree-opencl 90
run_part bench 150
run_part d2d-bandwidth 40
run_part seed-replay 100
run_part torch-order 120

echo "# total $(( $(date +%s) - T0 ))s; $( [ $FAILED = 0 ] && echo 'no part failed' || echo 'SOME PARTS FAILED')" | tee -a "$SUMMARY"
publish
echo "# results in $RESULTS: $(cd "$RESULTS" && ls | tr '\n' ' ')"
exit $FAILED
