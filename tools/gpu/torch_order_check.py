#!/usr/bin/env python3
"""Does nag4j's op order match real PyTorch? torch.optim against `nag4j replay`, bit for bit.

For each optimizer nag4j takes from PyTorch (docs/optimizers.md: momentum = torch.optim.SGD,
adamw = AdamW, rmsprop = RMSprop, adagrad = Adagrad), a few hyperparameter sets (float32-exact
values, so torch's double host arithmetic and nag4j's see the same numbers) run ~100 steps in
float32 on random params and per-step gradients. The gradients are exported as U, the initial
params as P, and replayed with `nag4j replay --optimizer X --hp ...`; final params and state are
compared bit for bit, with ULP distances where they differ. Two rows are informative extras, not
documented correspondences: nag4j `sgd` against SGD without momentum, and nag4j `adamw` with
weight_decay 0 against torch.optim.Adam.

Producers:
  numpy-torch-order  this file: torch's `_single_tensor_*` code read op by op, each op in numpy
                     float32, nothing fused (always runs; the dry run's only reference)
  torch-cpu          torch.optim on CPU, foreach=False (ATen's SIMD kernels: AVX2/AVX512 may fuse)
  torch-cpu-default  the constructor's defaults (on CPU this picks the single-tensor path too)
  torch-cpu-foreach  foreach=True;  torch-cpu-fused: fused=True where torch has it
  torch-cpu-nosimd   foreach=False in a child with ATEN_CPU_CAPABILITY=default (ATen's scalar
                     kernels, no FMA instructions): the op order docs/optimizers.md claims
  torch-cuda         torch.optim on the GPU with its defaults (foreach), when torch sees one
  nag4j-<B>          `nag4j replay` on each backend asked for

Asserted (exit 1): nag4j on every backend == numpy-torch-order. Claimed by the docs (exit 3 when
not): torch-cpu-nosimd == nag4j. Every other torch path is reported with its differences.
torch missing: the torch producers are skipped with the reason, the rest runs.

    python3 tools/gpu/torch_order_check.py --backends cpu,cuda:0 --out gpu-out/torch-order
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpukit as gk  # noqa: E402

F32 = np.float32
SKIP = 77


def f(x):
    """The float32 nearest x, as the Python float torch is given (so both sides see one value)."""
    return float(F32(x))


# (case id, nag4j optimizer, nag4j hp {name: value}, torch class, torch kwargs, {torch state key: nag4j slot}, informative)
def cases():
    out = []
    for cid, hp in [("momentum-plain", dict(lr=0.01, momentum=0.9, dampening=0, weight_decay=0, nesterov=0)),
                    ("momentum-nesterov-wd", dict(lr=0.05, momentum=0.8, dampening=0, weight_decay=0.01, nesterov=1)),
                    ("momentum-dampening", dict(lr=0.02, momentum=0.5, dampening=0.25, weight_decay=0.001, nesterov=0))]:
        out.append((cid, "momentum", hp, "SGD",
                    dict(lr=f(hp["lr"]), momentum=f(hp["momentum"]), dampening=f(hp["dampening"]),
                         weight_decay=f(hp["weight_decay"]), nesterov=bool(hp["nesterov"])),
                    {"momentum_buffer": "buf"}, False))
    for cid, hp in [("adamw-defaults", dict(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01)),
                    ("adamw-bigsteps", dict(lr=0.01, beta1=0.3, beta2=0.5, eps=1e-4, weight_decay=0.1))]:
        out.append((cid, "adamw", hp, "AdamW",
                    dict(lr=f(hp["lr"]), betas=(f(hp["beta1"]), f(hp["beta2"])), eps=f(hp["eps"]),
                         weight_decay=f(hp["weight_decay"])),
                    {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}, False))
    for cid, hp in [("rmsprop-defaults", dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=0)),
                    ("rmsprop-centered-momentum-wd", dict(lr=0.001, alpha=0.9, eps=1e-6, weight_decay=0.01,
                                                          momentum=0.9, centered=1)),
                    ("rmsprop-centered-alpha0.2", dict(lr=0.01, alpha=0.2, eps=1e-8, weight_decay=0, momentum=0,
                                                       centered=1))]:
        keys = {"square_avg": "square_avg"}
        if hp["centered"]:
            keys["grad_avg"] = "grad_avg"
        if hp["momentum"] > 0:
            keys["momentum_buffer"] = "momentum_buffer"
        out.append((cid, "rmsprop", hp, "RMSprop",
                    dict(lr=f(hp["lr"]), alpha=f(hp["alpha"]), eps=f(hp["eps"]), weight_decay=f(hp["weight_decay"]),
                         momentum=f(hp["momentum"]), centered=bool(hp["centered"])), keys, False))
    for cid, hp in [("adagrad-defaults", dict(lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)),
                    ("adagrad-decay-init", dict(lr=0.1, lr_decay=0.01, weight_decay=0.001, initial_accumulator_value=0.1,
                                                eps=1e-10))]:
        out.append((cid, "adagrad", hp, "Adagrad",
                    dict(lr=f(hp["lr"]), lr_decay=f(hp["lr_decay"]), weight_decay=f(hp["weight_decay"]),
                         initial_accumulator_value=f(hp["initial_accumulator_value"]), eps=f(hp["eps"])),
                    {"sum": "sum"}, False))
    out.append(("extra-sgd-vs-SGD", "sgd", dict(eta=0.01), "SGD", dict(lr=f(0.01)), {}, True))
    out.append(("extra-adamw-wd0-vs-Adam", "adamw", dict(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0),
                "Adam", dict(lr=f(0.001), betas=(f(0.9), f(0.999)), eps=f(1e-8), weight_decay=0.0),
                {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}, True))
    return out


SHAPES = [(), (1,), (7,), (3, 5), (1000,), (33, 17), (4099,)]


def data(seed, steps):
    rng = np.random.default_rng(seed)
    names = ["p%d_%s" % (i, "x".join(map(str, s)) or "scalar") for i, s in enumerate(SHAPES)]

    def vals(shape, lo, hi):
        n = int(np.prod(shape, dtype=np.int64)) if shape else 1
        return (rng.standard_normal(n) * 10.0 ** rng.uniform(lo, hi, n)).astype(F32).reshape(shape)

    P = {n: vals(s, -2, 1) for n, s in zip(names, SHAPES)}
    U = {n: np.stack([vals(s, -3, 0) for _ in range(steps)]) for n, s in zip(names, SHAPES)}
    return names, P, U


# ---------------------------------------------------------------------------------------------
# numpy-torch-order: torch/optim/{sgd,adam,rmsprop,adagrad}.py `_single_tensor_*`, each ATen op in
# float32 as ATen's scalar CPU kernels write it (add with alpha: a + alpha*b; addcmul: self + v*t1*t2;
# addcdiv: self + v*t1/t2; lerp: ATen's two-sided formula). Python-float scalars are doubles,
# rounded once to float32 where they meet a tensor.

def mul(a, b):
    return np.multiply(a, b, dtype=F32)


def add(a, b):
    return np.add(a, b, dtype=F32)


def sub(a, b):
    return np.subtract(a, b, dtype=F32)


def div(a, b):
    return np.divide(a, b, dtype=F32)


def lerp(s, e, w):
    w = F32(w)
    if abs(w) < 0.5:
        return add(s, mul(w, sub(e, s)))
    return sub(e, mul(sub(e, s), F32(F32(1) - w)))


def numpy_torch(klass, kw, names, P, U, steps):
    p = {n: P[n].copy() for n in names}
    st = {n: {} for n in names}
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            for n in names:
                g, s = U[n][t - 1], st[n]
                if klass == "SGD":
                    lr, mom, damp, wd, nest = kw["lr"], kw.get("momentum", 0.0), kw.get("dampening", 0.0), \
                        kw.get("weight_decay", 0.0), kw.get("nesterov", False)
                    if wd != 0:
                        g = add(g, mul(F32(wd), p[n]))
                    if mom != 0:
                        if "momentum_buffer" not in s:
                            s["momentum_buffer"] = g.copy()
                        else:
                            s["momentum_buffer"] = add(mul(s["momentum_buffer"], F32(mom)), mul(F32(1 - damp), g))
                        g = add(g, mul(F32(mom), s["momentum_buffer"])) if nest else s["momentum_buffer"]
                    p[n] = add(p[n], mul(F32(-lr), g))
                elif klass in ("Adam", "AdamW"):
                    lr, (b1, b2), eps, wd = kw["lr"], kw["betas"], kw["eps"], kw["weight_decay"]
                    if "exp_avg" not in s:
                        s["exp_avg"], s["exp_avg_sq"] = np.zeros_like(p[n]), np.zeros_like(p[n])
                    if wd != 0:
                        if klass == "AdamW":
                            p[n] = mul(p[n], F32(1 - lr * wd))
                        else:
                            g = add(g, mul(F32(wd), p[n]))
                    s["exp_avg"] = lerp(s["exp_avg"], g, 1 - b1)
                    s["exp_avg_sq"] = add(mul(s["exp_avg_sq"], F32(b2)), mul(mul(F32(1 - b2), g), g))
                    step_size = lr / (1 - b1 ** float(t))
                    bc2_sqrt = (1 - b2 ** float(t)) ** 0.5
                    denom = add(div(np.sqrt(s["exp_avg_sq"], dtype=F32), F32(bc2_sqrt)), F32(eps))
                    p[n] = add(p[n], div(mul(F32(-step_size), s["exp_avg"]), denom))
                elif klass == "RMSprop":
                    lr, alpha, eps, wd, mom, centered = kw["lr"], kw["alpha"], kw["eps"], kw["weight_decay"], \
                        kw["momentum"], kw["centered"]
                    if "square_avg" not in s:
                        s["square_avg"] = np.zeros_like(p[n])
                        if mom > 0:
                            s["momentum_buffer"] = np.zeros_like(p[n])
                        if centered:
                            s["grad_avg"] = np.zeros_like(p[n])
                    if wd != 0:
                        g = add(g, mul(F32(wd), p[n]))
                    s["square_avg"] = add(mul(s["square_avg"], F32(alpha)), mul(mul(F32(1 - alpha), g), g))
                    if centered:
                        s["grad_avg"] = lerp(s["grad_avg"], g, 1 - alpha)
                        avg = np.sqrt(add(s["square_avg"], mul(mul(F32(-1), s["grad_avg"]), s["grad_avg"])), dtype=F32)
                    else:
                        avg = np.sqrt(s["square_avg"], dtype=F32)
                    avg = add(avg, F32(eps))
                    if mom > 0:
                        s["momentum_buffer"] = add(mul(s["momentum_buffer"], F32(mom)), div(g, avg))
                        p[n] = add(p[n], mul(F32(-lr), s["momentum_buffer"]))
                    else:
                        p[n] = add(p[n], div(mul(F32(-lr), g), avg))
                elif klass == "Adagrad":
                    lr, lr_decay, wd, init, eps = kw["lr"], kw["lr_decay"], kw["weight_decay"], \
                        kw["initial_accumulator_value"], kw["eps"]
                    if "sum" not in s:
                        s["sum"] = np.full_like(p[n], F32(init))
                    if wd != 0:
                        g = add(g, mul(F32(wd), p[n]))
                    clr = lr / (1 + (t - 1) * lr_decay)
                    s["sum"] = add(s["sum"], mul(g, g))
                    std = add(np.sqrt(s["sum"], dtype=F32), F32(eps))
                    p[n] = add(p[n], div(mul(F32(-clr), g), std))
                else:
                    raise ValueError(klass)
    return p, st


# ---------------------------------------------------------------------------------------------
# torch producer (child process)

def produce_torch(args):
    try:
        import torch  # noqa: PLC0415
    except Exception as e:  # noqa: BLE001
        print("SKIP: PyTorch is not importable here (%s)" % e)
        return SKIP
    torch.manual_seed(0)
    cap = "?"
    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001  (older torch: read it from the build report)
        try:
            cap = next(ln.split(":", 1)[1].strip() for ln in torch.__config__.show().splitlines() if "CPU capability" in ln)
        except Exception:  # noqa: BLE001
            pass
    print("torch %s, ATen CPU capability %s (ATEN_CPU_CAPABILITY=%r), cuda available: %s%s" % (
        torch.__version__, cap, os.environ.get("ATEN_CPU_CAPABILITY"), torch.cuda.is_available(),
        " (%s)" % torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""), flush=True)
    with open(os.path.join(args.work, "meta.json")) as fh:
        meta = json.load(fh)
    variants = args.variants.split(",")
    P, _ = gk.load_st(os.path.join(args.work, "P.safetensors"))
    U, _ = gk.load_st(os.path.join(args.work, "U.safetensors"))
    names, steps = meta["names"], meta["steps"]
    for v in variants:
        dev = "cuda" if v == "torch-cuda" else "cpu"
        if dev == "cuda" and not torch.cuda.is_available():
            print("SKIP %s: torch sees no CUDA device" % v)
            continue
        for c in meta["cases"]:
            kw = dict(c["torch_kwargs"])
            if "betas" in kw:
                kw["betas"] = tuple(kw["betas"])
            if v in ("torch-cpu", "torch-cpu-nosimd"):
                kw["foreach"] = False
            elif v == "torch-cpu-foreach":
                kw["foreach"] = True
            elif v == "torch-cpu-fused":
                kw["fused"] = True
            tag = "%s-%s" % (c["id"], v)
            try:
                ps = [torch.nn.Parameter(torch.from_numpy(np.array(P[n], dtype=F32)).to(dev)) for n in names]
                opt = getattr(torch.optim, c["torch_class"])(ps, **kw)
                t0 = time.time()
                for s in range(steps):
                    for p, n in zip(ps, names):
                        p.grad = torch.from_numpy(np.array(U[n][s], dtype=F32)).to(dev)  # () rows are numpy scalars
                    opt.step()
                if dev == "cuda":
                    torch.cuda.synchronize()
                out = {n: p.detach().cpu().numpy() for p, n in zip(ps, names)}
                for key, slot in c["state_keys"].items():
                    for p, n in zip(ps, names):
                        if key in opt.state[p] and opt.state[p][key] is not None:
                            out["state/%s/%s" % (slot, n)] = opt.state[p][key].detach().cpu().numpy()
                gk.save_st(os.path.join(args.work, tag + ".safetensors"), out)
                print("%s: %d steps in %.2f s" % (tag, steps, time.time() - t0), flush=True)
            except Exception as e:  # noqa: BLE001  (e.g. fused=True where this torch has no fused kernel)
                msg = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
                with open(os.path.join(args.work, tag + ".skip"), "w") as fh:
                    fh.write(msg)
                print("%s: not run: %s" % (tag, msg), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nag4j", default=gk.default_nag4j())
    ap.add_argument("--backends", default="cpu", help="comma-separated; the first is the baseline (cpu)")
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "gpu-out"), "torch-order"))
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--summary", default=None)
    ap.add_argument("--only", default=None, help="comma-separated case ids or optimizer names")
    ap.add_argument("--child-timeout", type=int, default=120)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--producer", choices=["torch"], help=argparse.SUPPRESS)
    ap.add_argument("--variants", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.producer:
        return produce_torch(args)

    t_start = time.time()
    work = gk.fresh_work(args.out)
    backends = args.backends.split(",")
    base = "nag4j-" + backends[0]
    cs = cases()
    if args.only:
        keep = set(args.only.split(","))
        cs = [c for c in cs if c[0] in keep or c[1] in keep]
    gk.note("torch_order_check: nag4j %s, backends %s, %d cases x %d steps, safetensors I/O: %s" % (
        args.nag4j, backends, len(cs), args.steps, gk.SAFETENSORS_IMPL))

    names, P, U = data(20261129, args.steps)
    p_file, u_file = os.path.join(work, "P.safetensors"), os.path.join(work, "U.safetensors")
    gk.save_st(p_file, P)
    gk.save_st(u_file, U)
    with open(os.path.join(work, "meta.json"), "w") as fh:
        json.dump({"names": names, "steps": args.steps, "cases": [
            {"id": c[0], "optimizer": c[1], "torch_class": c[3], "torch_kwargs": c[4], "state_keys": c[5]}
            for c in cs]}, fh)

    results = {c[0]: {} for c in cs}
    notes = {}
    for cid, opt, hp, klass, kw, keys, _ in cs:
        p, st = numpy_torch(klass, kw, names, P, U, args.steps)
        out = dict(p)
        for key, slot in keys.items():
            for n in names:
                if key in st[n]:
                    out["state/%s/%s" % (slot, n)] = st[n][key]
        results[cid]["numpy-torch-order"] = out

    # torch children: the default ATen kernels (several paths, one import), then the scalar kernels.
    children = [("torch-cpu,torch-cpu-default,torch-cpu-foreach,torch-cpu-fused,torch-cuda", {}, "torch.log"),
                ("torch-cpu-nosimd", {"ATEN_CPU_CAPABILITY": "default"}, "torch-nosimd.log")]
    torch_skip = None
    for variants, env, logname in children:
        log = os.path.join(args.out, logname)
        rc, dt = gk.run_child([sys.executable, os.path.abspath(__file__), "--producer", "torch", "--variants", variants,
                               "--work", work], env, args.child_timeout, log)
        if rc == SKIP:
            torch_skip = gk.tail(log, 1)
            gk.note("torch: SKIPPED: %s" % torch_skip)
            break
        if rc != 0:
            gk.note("torch child (%s) %s after %.0f s: %s" % (variants, "timed out" if rc is None else "exit %d" % rc,
                                                              dt, gk.tail(log)))
        else:
            gk.note("torch child (%s): %.1f s (log %s)" % (variants, dt, log))
        for v in variants.split(","):
            for c in cs:
                fn = os.path.join(work, "%s-%s" % (c[0], v))
                if os.path.exists(fn + ".safetensors"):
                    results[c[0]][v] = gk.load_st(fn + ".safetensors")[0]
                elif os.path.exists(fn + ".skip"):
                    with open(fn + ".skip") as fh:
                        notes["%s %s" % (c[0], v)] = fh.read().strip()

    failures = []
    for cid, opt, hp, klass, kw, keys, _ in cs:
        hp_args = [(k, F32(v)) for k, v in hp.items()]
        for b in backends:
            o = os.path.join(work, "%s-nag4j-%s.safetensors" % (cid, b.replace(":", "_")))
            ok, dt, msg = gk.replay(args.nag4j, opt, hp_args, p_file, u_file, o, b)
            if not ok:
                failures.append("%s: nag4j replay on %s failed: %s" % (cid, b, msg))
                gk.note("FAIL " + failures[-1])
                continue
            results[cid]["nag4j-" + b] = gk.load_st(o)[0]

    # Compare: params, and the state slots torch keeps.
    report = {"backends": backends, "steps": args.steps, "shapes": [list(s) for s in SHAPES], "cases": [],
              "notes": notes, "torch_skipped": torch_skip}
    variants_all = ["torch-cpu-nosimd", "torch-cpu", "torch-cpu-default", "torch-cpu-foreach", "torch-cpu-fused",
                    "torch-cuda"]
    table = []
    claimed_bad = []
    for cid, opt, hp, klass, kw, keys, extra in cs:
        r = results[cid]
        cmp_names = names + ["state/%s/%s" % (slot, n) for slot in keys.values() for n in names]
        entry = {"case": cid, "optimizer": opt, "hp": hp, "torch": klass, "torch_kwargs": kw, "extra": extra,
                 "comparisons": []}
        report["cases"].append(entry)
        row = {}

        def cmp(a, b, kind):
            return gk.compare(r, a, b, kind, cmp_names, entry, cid)

        rep = cmp("numpy-torch-order", base, "asserted")
        if rep is not None and (rep["differing"] or rep["problems"]):
            failures.append("%s: %s differs from numpy-torch-order: %s" % (cid, base, gk.diff_line(rep)))
        for b in backends[1:]:
            rep = cmp(base, "nag4j-" + b, "asserted")
            if rep is not None and (rep["differing"] or rep["problems"]):
                failures.append("%s: nag4j-%s differs from %s: %s" % (cid, b, base, gk.diff_line(rep)))
        ref = base if base in r else "numpy-torch-order"
        for v in variants_all:
            if v not in r:
                row[v] = "n/a" if "%s %s" % (cid, v) not in notes else "not run"
                if v in ("torch-cpu", "torch-cpu-nosimd") and not torch_skip:  # these paths exist in every torch
                    failures.append("%s: torch produced nothing for %s: %s" % (cid, v, notes.get("%s %s" % (cid, v),
                                                                                                  "see the torch logs")))
                continue
            kind = "claimed" if v == "torch-cpu-nosimd" and not extra else "reported"
            rep = cmp(ref, v, kind)
            row[v] = "identical" if not rep["differing"] and not rep["problems"] else (
                "PROBLEM" if rep["problems"] else "%d/%d differ, max %d ulp" % (rep["differing"], rep["compared"],
                                                                              rep["max_ulps"]))
            if kind == "claimed" and (rep["differing"] or rep["problems"]):
                claimed_bad.append(cid)
        table.append((cid + (" (extra)" if extra else ""), row))

    # A table for people: one row per case, one column per torch path.
    w = {v: max([len(v)] + [len(row.get(v, "")) for _, row in table]) for v in variants_all}
    lines = ["%-34s %s" % ("case", " | ".join(v.ljust(w[v]) for v in variants_all))]
    for cid, row in table:
        lines.append("%-34s %s" % (cid, " | ".join(row.get(v, "").ljust(w[v]) for v in variants_all)))
    if notes:
        lines.append("")
        lines += ["not run: %s: %s" % kv for kv in sorted(notes.items())]
    txt = "\n".join(lines)
    gk.note("\n" + txt)
    with open(os.path.join(args.out, "table.txt"), "w") as fh:
        fh.write(txt + "\n")
    main_cases = [c for c in cs if not c[6]]
    head = ("FAIL (%d): %s" % (len(failures), failures[0][:300])) if failures else (
        "nag4j %s == numpy torch-order in %d cases" % (" == ".join(backends), len(cs)))
    version = ""
    for logname in ("torch.log", "torch-nosimd.log"):
        try:
            with open(os.path.join(args.out, logname)) as fh:
                version = next((ln.strip() for ln in fh if ln.startswith("torch ")), "")
        except OSError:
            pass
        if version:
            break
    report["torch"] = version
    if torch_skip:
        tail_ = "torch skipped (%s)" % torch_skip
    else:
        def count(v):
            rows = [row.get(v) for cid, row in table if not cid.endswith("(extra)")]
            ran = [x for x in rows if x not in (None, "n/a", "not run")]
            return "%s identical in %d/%d" % (v, sum(x == "identical" for x in ran), len(ran)) if ran else "%s not run" % v
        tail_ = "%s: %s (of %d documented cases; table.txt)" % (version.split(",")[0] or "torch", "; ".join(
            count(v) for v in variants_all), len(main_cases))
    line = "%s. %s." % (head, tail_)
    report["failures"] = failures
    report["summary"] = line
    report["seconds"] = round(time.time() - t_start, 1)
    with open(os.path.join(args.out, "report.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    gk.note("\nSUMMARY " + line + " (%.0f s)" % (time.time() - t_start))
    gk.write_summary(args.summary, line)
    if failures:
        return 1
    return 3 if claimed_bad else 0


if __name__ == "__main__":
    sys.exit(main())
