"""Shared helpers of the GPU-visit checks (seed_replay_check.py, torch_order_check.py): safetensors
I/O, raw-bit comparison with ULP distances, hex-floats for `--hp`, and running `nag4j replay`.

numpy only. safetensors files go through the `safetensors` package when it is importable, and
otherwise through a small reader/writer here (the format: an 8-byte little-endian header length,
a JSON header, then the raw little-endian data), so the checks also run where PyPI is out of reach.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
F32 = np.float32


def default_nag4j():
    """The packed launcher when there is one (the GPU machine has no JDK), else ./nag4j."""
    for p in (os.environ.get("NAG4J"), os.path.join(ROOT, ".dist", "nag4j"), os.path.join(ROOT, "nag4j")):
        if p and os.path.exists(p):
            return p
    return os.path.join(ROOT, "nag4j")


def note(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# safetensors

def _want_package():
    if os.environ.get("GPUKIT_SAFETENSORS") == "fallback":  # to test the fallback where the package exists
        return None
    try:
        from safetensors import numpy as stnp  # noqa: PLC0415
        return stnp
    except Exception:  # noqa: BLE001  (ImportError, or a broken install)
        return None


_ST = _want_package()
SAFETENSORS_IMPL = "safetensors %s" % __import__("safetensors").__version__ if _ST else "numpy fallback (gpukit.py)"


def save_st(path, tensors, metadata=None):
    """tensors: dict name -> array (float32, any shape including ()). Order is kept in the fallback."""
    arrays = {n: np.array(a, dtype=np.float32, order="C") for n, a in tensors.items()}  # keeps shape ()
    if _ST is not None:
        _ST.save_file(arrays, path, metadata=metadata)
        return
    header, pos = {}, 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for n, a in arrays.items():
        header[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [pos, pos + a.nbytes]}
        pos += a.nbytes
    h = json.dumps(header, ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for a in arrays.values():
            f.write(a.astype("<f4", copy=False).tobytes())


def load_st(path):
    """dict name -> float32 array (copies), and the metadata dict (or {})."""
    if _ST is not None:
        from safetensors import safe_open  # noqa: PLC0415
        with safe_open(path, framework="numpy") as f:
            meta = f.metadata() or {}
            return {k: np.array(f.get_tensor(k), dtype=np.float32) for k in f.keys()}, meta
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    out = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise ValueError("%s: tensor %r has dtype %s, not F32" % (path, name, e["dtype"]))
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype="<f4").astype(np.float32).reshape(tuple(e["shape"]))
    return out, meta


# ---------------------------------------------------------------------------------------------
# bits

def bits(a):
    return np.array(a, dtype=np.float32, order="C").view(np.uint32)


def hexbits(x):
    return "%08x" % int(np.asarray(x, dtype=np.float32).view(np.uint32))


def hexfloat(x):
    """A float32 as text Java's Float.parseFloat reads back to the same bits (--hp NAME=VALUE)."""
    x = float(np.float32(x))
    if x == 0.0:
        return "-0x0.0p0" if np.signbit(x) else "0x0.0p0"
    return x.hex()


def same(a, b):
    """Element mask: raw bits equal, or both NaN (NaN compared by class, as in docs/replay.md)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return (bits(a) == bits(b)) | (np.isnan(a) & np.isnan(b))


def _ordered(a):
    i = np.asarray(a, np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def ulps(a, b):
    """ULP distance per element (+0 and -0 are 0 apart; NaN vs number = -1)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    d = np.abs(_ordered(a) - _ordered(b))
    d = np.where(np.isnan(a) & np.isnan(b), 0, d)
    return np.where(np.isnan(a) ^ np.isnan(b), -1, d)


def diff(want, got, names=None, show=3):
    """Compares two dicts of arrays. Returns a report dict: compared, differing, max_ulps,
    ulp histogram, per-tensor counts, the first few differing elements with values and bits,
    and problems (missing tensors, shape mismatches)."""
    names = list(want) if names is None else names
    rep = {"compared": 0, "differing": 0, "max_ulps": 0, "ulps": {}, "tensors": {}, "first": [], "problems": []}
    for n in names:
        if n not in want or n not in got:
            rep["problems"].append("tensor %r missing from %s" % (n, "the reference" if n not in want else "the result"))
            continue
        w, g = np.asarray(want[n], np.float32), np.asarray(got[n], np.float32)
        if w.shape != g.shape:
            rep["problems"].append("tensor %r: shape %s vs %s" % (n, list(w.shape), list(g.shape)))
            continue
        ok = same(w, g)
        rep["compared"] += int(ok.size)
        bad = int(ok.size - np.count_nonzero(ok))
        if not bad:
            continue
        rep["differing"] += bad
        rep["tensors"][n] = bad
        u = ulps(w, g)[~ok]
        for k in u.tolist():
            key = "nan-vs-number" if k < 0 else (str(k) if k <= 4 else ">4")
            rep["ulps"][key] = rep["ulps"].get(key, 0) + 1
        rep["max_ulps"] = max(rep["max_ulps"], int(u.max()))
        for idx in np.argwhere(~ok)[: max(0, show - len(rep["first"]))]:
            i = tuple(int(v) for v in idx)
            rep["first"].append({"tensor": n, "index": list(i),
                                 "want": repr(float(w[i])), "want_bits": hexbits(w[i]),
                                 "got": repr(float(g[i])), "got_bits": hexbits(g[i]), "ulps": int(ulps(w[i], g[i]))})
    return rep


def diff_line(rep):
    if rep["problems"]:
        return "PROBLEM: " + "; ".join(rep["problems"])
    if not rep["differing"]:
        return "identical (%d values)" % rep["compared"]
    first = "; ".join("%s%s want %s (%s) got %s (%s), %d ulp" % (f["tensor"], f["index"], f["want"], f["want_bits"],
                                                                  f["got"], f["got_bits"], f["ulps"]) for f in rep["first"])
    hist = ", ".join("%s ulp: %d" % (k, v) for k, v in sorted(rep["ulps"].items()))
    return "%d of %d values differ (max %d ulp; %s); first: %s" % (rep["differing"], rep["compared"], rep["max_ulps"], hist, first)


def compare(results, want, got, kind, names, entry, label):
    """Compares results[got] with results[want] over names, records it in entry["comparisons"] and logs one
    line (ok, or FAIL for an asserted comparison, DIFF otherwise). None if either result is missing."""
    if want not in results or got not in results:
        return None
    rep = diff(results[want], results[got], names)
    entry["comparisons"].append({"want": want, "got": got, "kind": kind, "report": rep})
    bad = rep["differing"] or rep["problems"]
    note("%s %-30s %-18s vs %-18s %s" % ("ok  " if not bad else ("FAIL" if kind == "asserted" else "DIFF"),
                                         label, got, want, diff_line(rep)))
    return rep


def fresh_work(out):
    """out/work, emptied: where a check keeps its P/U/O files. Returns its path."""
    os.makedirs(out, exist_ok=True)
    work = os.path.join(out, "work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    return work


# ---------------------------------------------------------------------------------------------
# nag4j

def replay(nag4j, optimizer, hp, p, u, o, backend, timeout=120):
    """Runs `nag4j replay`; hp: list of (name, float32). Returns (ok, seconds, message)."""
    cmd = [nag4j, "replay", "--optimizer", optimizer]
    for k, v in hp:
        cmd += ["--hp", "%s=%s" % (k, hexfloat(v))]
    cmd += ["--params", p, "--updates", u, "--out", o, "--backend", backend]
    if os.path.exists(o):
        os.remove(o)
    t0 = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.time() - t0, "timed out after %d s: %s" % (timeout, " ".join(cmd))
    dt = time.time() - t0
    if r.returncode != 0:
        return False, dt, "exit %d: %s (%s)" % (r.returncode, (r.stderr or r.stdout).strip()[-2000:], " ".join(cmd))
    return True, dt, r.stdout.strip()


def run_child(cmd, env_extra, timeout, log):
    """Runs a producer child (a framework in its own process: fresh env, its crashes and hangs
    contained). Returns (exit code or None on timeout, seconds). Output goes to the log file."""
    env = dict(os.environ)
    env.update(env_extra)
    t0 = time.time()
    with open(log, "w") as f:
        f.write("$ %s %s\n" % (" ".join("%s=%s" % kv for kv in env_extra.items()), " ".join(cmd)))
        f.flush()
        try:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, timeout=timeout)
            rc = r.returncode
        except subprocess.TimeoutExpired:
            rc = None
    return rc, time.time() - t0


def tail(path, n=3):
    try:
        with open(path) as f:
            lines = [ln.rstrip() for ln in f if ln.strip()]
        return " | ".join(lines[-n:])
    except OSError:
        return "(no log)"


def write_summary(path, line, limit=600):
    line = " ".join(line.split())
    if len(line) > limit:
        line = line[:limit - 3] + "..."
    if path:
        with open(path, "w") as f:
            f.write(line.strip() + "\n")


def module_version(name):
    try:
        m = __import__(name)
        return getattr(m, "__version__", "?")
    except Exception as e:  # noqa: BLE001
        return None if isinstance(e, ImportError) else "broken (%s)" % e


if __name__ == "__main__":  # python3 tools/gpu/gpukit.py [--line]: what this Python has
    mods = [(m, module_version(m) or "-") for m in ("numpy", "safetensors", "jax", "jaxlib", "optax", "torch")]
    if sys.argv[1:] == ["--line"]:
        print(", ".join("%s %s" % kv for kv in mods) + " (- = not installed)")
    else:
        for m, v in mods:
            print("%-16s %s" % (m, v))
        print("%-16s %s" % ("safetensors I/O", SAFETENSORS_IMPL))
    sys.exit(0)
