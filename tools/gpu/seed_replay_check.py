#!/usr/bin/env python3
"""The reference JAX seed (ngc-learn's NAG, ../shared/seed/nag_seed.py) against `nag4j replay`.

Random params and updates (several seeds; shapes (), odd sizes, a size-0 tensor; 1 to 300 steps;
the default eta/mu and others; one case with special values) are written as P/U safetensors
(docs/replay.md). Producers of the final params and phi:
  numpy-strict   this file, one numpy float32 op per seed op (the contract; always runs)
  numpy-fma1/2/12  the same with the seed's first, second or both mul-adds fused (to classify)
  jax-cpu        the seed itself, jitted, on JAX's CPU device (child process, JAX_PLATFORMS=cpu)
  jax-gpu        the seed on JAX's GPU, when JAX sees one (child process)
  nag4j-<B>      `nag4j replay --optimizer nag --backend B` for every backend asked for

Asserted (exit 1 when not): nag4j on every backend gives numpy-strict's bits, and so the same
bits as each other. docs/replay.md claims the seed run on the CPU in float32 gives nag4j's bits:
a JAX CPU difference exits 3 and names the fused variant it matches (XLA's CPU backend may
contract mul-adds into FMAs; then JAX is re-run with XLA_FLAGS=--xla_cpu_max_isa=SSE4_2, no FMA
instructions, to tell). JAX on the GPU is reported, not asserted (XLA on GPU may fuse).
Exit 0 when all asserted and claimed comparisons hold. JAX missing: its parts are skipped with the
reason and the rest still runs.

    python3 tools/gpu/seed_replay_check.py --backends cpu,cuda:0 --out gpu-out/seed-replay
"""
import argparse
import importlib.util
import json
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpukit as gk  # noqa: E402

F32 = np.float32
SKIP = 77

SPECIAL_BITS = np.array([0x7fc00000, 0xffc00000, 0x7f800000, 0xff800000, 0x00000000, 0x80000000,
                         0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff,
                         0x3f800000, 0x1f800000], dtype=np.uint32)


def cases(quick):
    """(id, rng seed, shapes, steps, hp or None for the seed's defaults, value mode)."""
    all_ = [
        ("A-defaults", 1, [(), (1,), (7,), (4, 5), (1000,), (33, 17), (2, 3, 4)], 300, None, "normal"),
        ("B-eta0.05-mu0.5", 2, [(4099,), (3,), (0,), ()], 257, (0.05, 0.5), "normal"),
        ("C-eta1e-3-mu0.99", 3, [(513,), (1, 1, 1), (64, 64)], 300, (1e-3, 0.99), "normal"),
        ("D-special-mu-0.3", 4, [(64,), ()], 20, (0.1, -0.3), "special"),
        ("E-one-step", 5, [(10,), ()], 1, (0.02, 0.95), "normal"),
    ]
    if quick:
        return [("A-defaults", 1, all_[0][2], 50, None, "normal"), all_[1], all_[3]]
    return all_


def values(rng, shape, mode):
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    v = (rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 2, n)).astype(np.float32)
    if mode == "special":
        pick = rng.random(n) < 0.3
        v[pick] = rng.choice(SPECIAL_BITS, size=int(pick.sum())).view(np.float32)
    return v.reshape(shape)


# ---------------------------------------------------------------------------------------------
# numpy: the seed op by op, and the fused variants (fma32 as in ../shared/golden/nagf32.py)

def fma32(a, b, c):
    """Correctly rounded float32 a*b + c: exact product in double, TwoSum, round-to-odd, one rounding."""
    a, b, c = np.broadcast_arrays(np.asarray(a, F32), np.asarray(b, F32), np.asarray(c, F32))
    with np.errstate(all="ignore"):
        p = a.astype(np.float64) * b.astype(np.float64)
        cc = c.astype(np.float64)
        s = p + cc
        bp = s - p
        err = (p - (s - bp)) + (cc - bp)
        even = (s.view(np.uint64) & np.uint64(1)) == 0
        fix = np.isfinite(s) & np.isfinite(err) & (err != 0) & even
        s = np.where(fix, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
        return s.astype(F32)


def numpy_seed(P, U, names, steps, eta, mu, fma1=False, fma2=False):
    theta = {n: P[n].astype(F32) for n in names}
    phi = {n: np.zeros_like(theta[n]) for n in names}
    eta, mu = F32(eta), F32(mu)
    ts = F32(0)
    with np.errstate(all="ignore"):
        for s in range(steps):
            ts = F32(ts + F32(1))
            mu_eff = np.multiply(mu, F32(1) if ts > F32(1) else F32(0), dtype=F32)
            for n in names:
                p, u = theta[n], U[n][s]
                ph = fma32(-u, eta, p) if fma1 else np.subtract(p, np.multiply(u, eta, dtype=F32), dtype=F32)
                d = np.subtract(ph, phi[n], dtype=F32)
                theta[n] = fma32(d, mu_eff, ph) if fma2 else np.add(ph, np.multiply(d, mu_eff, dtype=F32), dtype=F32)
                phi[n] = ph
    out = dict(theta)
    out.update({"state/phi/" + n: phi[n] for n in names})
    return out


VARIANTS = {"numpy-strict": {}, "numpy-fma1": {"fma1": True}, "numpy-fma2": {"fma2": True},
            "numpy-fma12": {"fma1": True, "fma2": True}}


# ---------------------------------------------------------------------------------------------
# JAX producer (child process)

def find_seed(arg):
    for p in ([arg] if arg else []) + [os.path.join(gk.ROOT, "..", "shared", "seed", "nag_seed.py"),
                                       os.path.join(gk.ROOT, ".dist", "shared", "seed", "nag_seed.py")]:
        if p and os.path.isfile(p):
            return os.path.abspath(p)
    return None


def produce_jax(args):
    try:
        import jax  # noqa: PLC0415
    except Exception as e:  # noqa: BLE001
        print("SKIP: JAX is not importable here (%s)" % e)
        return SKIP
    jax.config.update("jax_enable_x64", False)
    kind = args.device
    try:
        devs = jax.devices(kind)
    except Exception as e:  # noqa: BLE001
        print("SKIP: JAX sees no %s device (%s)" % (kind, str(e).splitlines()[0] if str(e) else type(e).__name__))
        return SKIP
    if not devs:
        print("SKIP: JAX sees no %s device" % kind)
        return SKIP
    dev = devs[0]
    spec = importlib.util.spec_from_file_location("nag_seed", args.seed_file)
    seed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seed)
    print("jax %s, jaxlib %s, device %s (%s), XLA_FLAGS=%r, seed %s" % (
        jax.__version__, getattr(__import__("jaxlib"), "__version__", "?"), dev, getattr(dev, "device_kind", "?"),
        os.environ.get("XLA_FLAGS", ""), args.seed_file), flush=True)
    with open(os.path.join(args.work, "cases.json")) as f:
        cs = json.load(f)
    for c in cs:
        P, _ = gk.load_st(os.path.join(args.work, c["id"] + "-P.safetensors"))
        U, _ = gk.load_st(os.path.join(args.work, c["id"] + "-U.safetensors"))
        names = c["names"]
        t0 = time.time()
        theta = [jax.device_put(P[n], dev) for n in names]
        opt = seed.nag_init(theta)
        kw = {} if c["hp"] is None else {"eta": float(F32(c["hp"][0])), "mu": float(F32(c["hp"][1]))}
        for s in range(c["steps"]):
            upd = [jax.device_put(np.array(U[n][s], dtype=F32), dev) for n in names]  # () rows are numpy scalars
            opt, theta = seed.nag_step(opt, theta, upd, **kw)
        out = {n: np.asarray(theta[i], dtype=F32) for i, n in enumerate(names)}
        out.update({"state/phi/" + n: np.asarray(opt[0][i], dtype=F32) for i, n in enumerate(names)})
        for i, n in enumerate(names):
            if np.asarray(theta[i]).dtype != np.float32:
                print("NOTE: JAX returned %s for %s" % (np.asarray(theta[i]).dtype, n))
        gk.save_st(os.path.join(args.work, "%s-%s.safetensors" % (c["id"], args.label)), out)
        print("case %s: %d steps on %s in %.2f s (time_step %s)" % (c["id"], c["steps"], dev, time.time() - t0,
                                                                     float(np.asarray(opt[1]))), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------

def classify(got, variants, names):
    """Which numpy variant `got` matches exactly, else the closest one."""
    counts = {v: gk.diff(out, got, names, show=0)["differing"] for v, out in variants.items()}
    exact = [v for v, k in counts.items() if k == 0]
    if exact:
        return "matches " + " = ".join(exact)
    best = min(counts, key=counts.get)
    return "matches no variant exactly (closest %s: %d differ; %s)" % (
        best, counts[best], ", ".join("%s %d" % kv for kv in counts.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nag4j", default=gk.default_nag4j())
    ap.add_argument("--backends", default="cpu", help="comma-separated; the first is the baseline (cpu)")
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "gpu-out"), "seed-replay"))
    ap.add_argument("--seed-file", default=None, help="nag_seed.py (default: ../shared/seed, then .dist/shared/seed)")
    ap.add_argument("--summary", default=None, help="write a one-line result here")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child-timeout", type=int, default=120)
    ap.add_argument("--keep", action="store_true", help="keep the P/U/O files (else only logs and the report)")
    ap.add_argument("--producer", choices=["jax"], help=argparse.SUPPRESS)
    ap.add_argument("--device", help=argparse.SUPPRESS)
    ap.add_argument("--label", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.producer:
        return produce_jax(args)

    t_start = time.time()
    work = gk.fresh_work(args.out)
    backends = args.backends.split(",")
    seed_file = find_seed(args.seed_file)
    gk.note("seed_replay_check: nag4j %s, backends %s, safetensors I/O: %s, seed %s" % (
        args.nag4j, backends, gk.SAFETENSORS_IMPL, seed_file or "NOT FOUND"))

    # The trajectories.
    meta, data = [], {}
    for cid, rs, shapes, steps, hp, mode in cases(args.quick):
        rng = np.random.default_rng(rs)
        names = ["t%d_%s" % (i, "x".join(map(str, s)) or "scalar") for i, s in enumerate(shapes)]
        P = {n: values(rng, s, mode) for n, s in zip(names, shapes)}
        U = {n: (np.stack([values(rng, s, mode) for _ in range(steps)]) if steps else np.zeros((0,) + s, F32))
             for n, s in zip(names, shapes)}
        gk.save_st(os.path.join(work, cid + "-P.safetensors"), P)
        gk.save_st(os.path.join(work, cid + "-U.safetensors"), U)
        meta.append({"id": cid, "names": names, "steps": steps, "hp": hp, "mode": mode,
                     "shapes": [list(s) for s in shapes]})
        data[cid] = (P, U)
    with open(os.path.join(work, "cases.json"), "w") as f:
        json.dump(meta, f)

    results = {c["id"]: {} for c in meta}
    for c in meta:
        P, U = data[c["id"]]
        eta, mu = c["hp"] if c["hp"] is not None else (0.01, 0.9)
        for v, kw in VARIANTS.items():
            results[c["id"]][v] = numpy_seed(P, U, c["names"], c["steps"], eta, mu, **kw)

    # JAX children: CPU, GPU.
    skipped = {}
    jax_runs = [("jax-cpu", "cpu", {"JAX_PLATFORMS": "cpu"}), ("jax-gpu", "gpu", {})]

    def run_jax(label, kind, env):
        if seed_file is None:
            skipped[label] = "the seed nag_seed.py was not found (../shared/seed or .dist/shared/seed)"
            return
        env = dict(env, JAX_ENABLE_X64="0", XLA_PYTHON_CLIENT_PREALLOCATE="false")
        log = os.path.join(args.out, label + ".log")
        rc, dt = gk.run_child([sys.executable, os.path.abspath(__file__), "--producer", "jax", "--device", kind,
                               "--label", label, "--work", work, "--seed-file", seed_file], env, args.child_timeout, log)
        if rc == SKIP:
            skipped[label] = gk.tail(log, 1)
        elif rc != 0:
            skipped[label] = "FAILED (%s, %.0f s): %s" % ("timeout" if rc is None else "exit %d" % rc, dt, gk.tail(log))
        else:
            gk.note("%s: ran in %.1f s (log %s)" % (label, dt, log))
        for c in meta:
            f = os.path.join(work, "%s-%s.safetensors" % (c["id"], label))
            if os.path.exists(f):
                results[c["id"]][label] = gk.load_st(f)[0]

    failures = []
    for label, kind, env in jax_runs:
        run_jax(label, kind, env)
        if label in skipped:
            gk.note("%s: SKIPPED: %s" % (label, skipped[label]))
            if label == "jax-cpu" and skipped[label].startswith("FAILED"):  # JAX is there but the seed did not run
                failures.append("jax-cpu: " + skipped[label])

    # nag4j replays.
    for c in meta:
        hp = [] if c["hp"] is None else [("eta", F32(c["hp"][0])), ("mu", F32(c["hp"][1]))]
        for b in backends:
            o = os.path.join(work, "%s-nag4j-%s.safetensors" % (c["id"], b.replace(":", "_")))
            ok, dt, msg = gk.replay(args.nag4j, "nag", hp, os.path.join(work, c["id"] + "-P.safetensors"),
                                    os.path.join(work, c["id"] + "-U.safetensors"), o, b)
            if not ok:
                failures.append("%s: nag4j replay on %s failed: %s" % (c["id"], b, msg))
                gk.note("FAIL " + failures[-1])
                continue
            got, md = gk.load_st(o)
            if md.get("step") != str(c["steps"]):
                failures.append("%s: nag4j-%s metadata step %r, expected %d" % (c["id"], b, md.get("step"), c["steps"]))
            results[c["id"]]["nag4j-" + b] = got

    # Comparisons.
    report = {"backends": backends, "safetensors": gk.SAFETENSORS_IMPL, "seed": seed_file, "skipped": skipped,
              "cases": []}
    base = "nag4j-" + backends[0]
    jax_cpu_differs, jax_notes = [], {}
    total = 0
    for c in meta:
        r, names = results[c["id"]], c["names"]
        allnames = names + ["state/phi/" + n for n in names]
        entry = {"case": c, "comparisons": []}
        report["cases"].append(entry)
        variants = {v: r[v] for v in VARIANTS}

        def cmp(a, b, kind):
            return gk.compare(r, a, b, kind, allnames, entry, c["id"])

        rep = cmp("numpy-strict", base, "asserted")
        if rep is not None:
            total += rep["compared"]
            if rep["differing"] or rep["problems"]:
                failures.append("%s: %s differs from numpy-strict: %s" % (c["id"], base, gk.diff_line(rep)))
        for b in backends[1:]:
            rep = cmp(base, "nag4j-" + b, "asserted")
            if rep is not None and (rep["differing"] or rep["problems"]):
                failures.append("%s: nag4j-%s differs from %s: %s" % (c["id"], b, base, gk.diff_line(rep)))
        for j in ("jax-cpu", "jax-gpu"):
            ref = base if base in r else "numpy-strict"
            rep = cmp(ref, j, "claimed" if j == "jax-cpu" else "reported")
            if rep is None:
                continue
            cls = classify(r[j], variants, allnames)
            entry["comparisons"][-1]["classified"] = cls
            jax_notes.setdefault(j, []).append("%s: %s" % (c["id"], "identical" if not rep["differing"] else cls))
            if rep["differing"] or rep["problems"]:
                gk.note("     %s %s" % (j, cls))
                if j == "jax-cpu":
                    jax_cpu_differs.append(c["id"])

    # JAX CPU differs: is it the CPU's FMA? Re-run without FMA instructions (XLA flag, if this XLA has it).
    if jax_cpu_differs:
        label = "jax-cpu-nofma"
        run_jax(label, "cpu", {"JAX_PLATFORMS": "cpu", "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") +
                                                                       " --xla_cpu_max_isa=SSE4_2").strip()})
        if label in skipped:
            gk.note("%s: SKIPPED: %s" % (label, skipped[label]))
        for c in meta:
            r = results[c["id"]]
            if label in r and base in r:
                allnames = c["names"] + ["state/phi/" + n for n in c["names"]]
                rep = gk.diff(r[base], r[label], allnames)
                cls = classify(r[label], {v: r[v] for v in VARIANTS}, allnames)
                jax_notes.setdefault(label, []).append("%s: %s" % (c["id"], "identical" if not rep["differing"] else cls))
                gk.note("%s %-18s %-14s vs %s: %s" % ("ok  " if not rep["differing"] else "DIFF", c["id"], label, base,
                                                     gk.diff_line(rep)))

    report["failures"] = failures
    report["jax"] = jax_notes
    report["seconds"] = round(time.time() - t_start, 1)
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)

    def jax_word(j):
        if j in skipped:
            return "%s skipped (%s)" % (j, skipped[j])
        notes = jax_notes.get(j, [])
        bad = [n for n in notes if not n.endswith(": identical")]
        return "%s: %s" % (j, "identical in all %d cases" % len(notes) if not bad else "; ".join(bad))

    head = ("FAIL (%d): %s" % (len(failures), failures[0][:300])) if failures else (
        "nag4j %s == numpy strict seed, %d cases, %d values" % (" == ".join(backends), len(meta), total))
    line = "%s. %s. %s." % (head, jax_word("jax-cpu"), jax_word("jax-gpu"))
    if jax_cpu_differs:
        line += " " + jax_word("jax-cpu-nofma") + "."
    gk.note("\nSUMMARY " + line + " (%.0f s)" % (time.time() - t_start))
    gk.write_summary(args.summary, line)
    if failures:
        return 1
    return 3 if jax_cpu_differs else 0


if __name__ == "__main__":
    sys.exit(main())
