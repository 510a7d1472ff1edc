#!/usr/bin/env python3
"""Independent cross-check of `nag4j replay`, with numpy only (no JAX, no PyTorch, no nag4j code).

It generates random trajectories (scalar and empty shapes, many tensors, special values: NaN
payloads, +-inf, +-0, subnormals, +-FLT_MAX, random bit patterns), writes them as safetensors
files by hand, computes the expected final params and state op by op in numpy float32 from the
contracts in docs/optimizers.md (each op rounded to float32, no fusion; host values in Python
double rounded once to float32), replays them with `./nag4j replay --backend B` for every
backend asked for, and compares the output file: tensor names (`<param>`, `state/<slot>/<param>`),
dtype, shape, raw bits (any NaN matches any NaN), and the metadata `step`, `optimizer` and `hp.*`.

nag, sgd, adam and momentum are checked against this file's own numpy implementation;
adamw, rmsprop and adagrad only backend against backend (the first backend is the baseline).

On a mismatch it replays shorter prefixes of the same trajectory to find the first step that
differs, and prints the element, the expected and actual bits, and that element's inputs.

    python3 tools/crosscheck/crosscheck.py                       # all optimizers, cpu+opencl+reference
    python3 tools/crosscheck/crosscheck.py --quick --backends cpu,reference
    python3 tools/crosscheck/crosscheck.py --optimizers nag,adam --seeds 1,2,3 -v

Exit status 0 when everything matched, 1 otherwise.
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
from fractions import Fraction

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAG4J = os.path.join(ROOT, "nag4j")

# ---------------------------------------------------------------------------------------------
# float32 helpers

F32 = np.float32


def bits(a):
    return np.asarray(a, dtype=np.float32, order="C").view(np.uint32)


def from_bits(u):
    return np.asarray(u, dtype=np.uint32).view(np.float32)


def fbits(x):
    """Raw bits of a float32 scalar, as 0x%08x."""
    return "0x%08x" % int(np.asarray(x, dtype=np.float32).view(np.uint32))


def show(x):
    x = np.float32(x)
    return "%s (%s)" % (repr(float(x)), fbits(x))


def same_bits(a, b):
    """Element mask: raw bits equal, or both NaN (NaN by class)."""
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    return (bits(a) == bits(b)) | (np.isnan(a) & np.isnan(b))


def round_to_f32(q, negative_zero=False):
    """The float32 nearest to the exact rational q (ties to even, subnormals, overflow to inf)."""
    if q == 0:
        return F32(-0.0) if negative_zero else F32(0.0)
    sign = -1.0 if q < 0 else 1.0
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1  # now 2^e <= a < 2^(e+1)
    quantum = Fraction(2) ** (max(e, -126) - 23)
    n = a / quantum
    fl = n.numerator // n.denominator
    rem = n - fl
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1):
        fl += 1
    v = fl * quantum
    if v >= Fraction(2) ** 128:
        return F32(sign * math.inf)
    return F32(sign * float(v))  # v is a float32 value, so exact in double


_DEC = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?[fFdD]?$")
_HEX = re.compile(r"^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)[fFdD]?$")


def parse_java_float(text):
    """What Java's Float.parseFloat gives, computed exactly: decimal or hex-float, nearest float32."""
    s = text.strip()
    m = _HEX.match(s)
    if m:
        sign, ip, fp, ex = m.group(1), m.group(2), m.group(3) or "", int(m.group(4))
        if not ip and not fp:
            raise ValueError(text)
        q = Fraction(int((ip or "0") + fp, 16)) / Fraction(16) ** len(fp) * Fraction(2) ** ex
        return round_to_f32(-q if sign == "-" else q, sign == "-")
    m = _DEC.match(s)
    if m:
        sign, ip, fp, ex = m.group(1), m.group(2), m.group(3) or "", int(m.group(4) or 0)
        if not ip and not fp:
            raise ValueError(text)
        q = Fraction(int((ip or "0") + fp)) * Fraction(10) ** (ex - len(fp))
        return round_to_f32(-q if sign == "-" else q, sign == "-")
    raise ValueError(text)


# ---------------------------------------------------------------------------------------------
# safetensors, by hand: 8-byte little-endian header length, JSON header, raw little-endian data


def write_safetensors(path, tensors, metadata=None, data_order=None):
    """tensors: list of (name, float32 array). data_order: names in the order their bytes are laid out."""
    arrays = {n: np.asarray(a, dtype="<f4", order="C") for n, a in tensors}
    order = data_order or [n for n, _ in tensors]
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offsets, pos = {}, 0
    for n in order:
        size = arrays[n].nbytes
        offsets[n] = (pos, pos + size)
        pos += size
    for n, a in tensors:  # header keys in the given order, data in data_order
        header[n] = {"dtype": "F32", "shape": list(arrays[n].shape), "data_offsets": list(offsets[n])}
    h = json.dumps(header, ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for n in order:
            f.write(arrays[n].tobytes())


def read_safetensors(path):
    """Returns (tensors {name: (dtype, shape, array)}, metadata, names in data order, problems)."""
    problems = []
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: shorter than 8 bytes" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d past the end" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None)
    out, spans = {}, []
    for name, e in header.items():
        b, end = e["data_offsets"]
        shape = tuple(e["shape"])
        if e["dtype"] != "F32":
            problems.append("tensor %r has dtype %s" % (name, e["dtype"]))
            continue
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - b != 4 * count or end > len(data):
            problems.append("tensor %r: offsets %s do not fit shape %s" % (name, [b, end], list(shape)))
            continue
        arr = np.frombuffer(data[b:end], dtype="<f4").astype(np.float32).reshape(shape)
        out[name] = (e["dtype"], shape, arr)
        spans.append((b, end, name))
    spans.sort()
    pos = 0
    for b, end, name in spans:
        if b != pos:
            problems.append("tensor %r starts at %d, expected %d (gap or overlap)" % (name, b, pos))
        pos = max(pos, end)
    if pos != len(data):
        problems.append("data area is %d bytes, tensors cover %d" % (len(data), pos))
    return out, meta, [s[2] for s in spans], problems


# ---------------------------------------------------------------------------------------------
# The contracts, op by op in numpy float32 (docs/optimizers.md; issues 2 and 3)


def mul(a, b):
    return np.multiply(a, b, dtype=np.float32)


def add(a, b):
    return np.add(a, b, dtype=np.float32)


def sub(a, b):
    return np.subtract(a, b, dtype=np.float32)


def div(a, b):
    return np.divide(a, b, dtype=np.float32)


def sqrt(a):
    return np.sqrt(np.asarray(a, np.float32), dtype=np.float32)


def select(c, a, b):
    """select(c, a, b) = c != 0 ? a : b, copying the chosen operand's bits."""
    return a if c != 0 else b


def pow_double(b, t):
    """b**t in double for an integer t >= 1, inf on overflow (as Java's StrictMath.pow)."""
    try:
        return math.pow(b, t)
    except OverflowError:
        return math.copysign(math.inf, b if t % 2 else 1.0)


def f32_of_double(x):
    return F32(x)  # numpy rounds a Python float (double) to nearest float32; overflow gives inf


class Nag:
    name, slots, defaults = "nag", ["phi"], {"eta": "0.01", "mu": "0.9"}

    @staticmethod
    def step(t, p, u, st, hp):
        mask = F32(1.0) if t > 1 else F32(0.0)
        mu_eff = mul(hp["mu"], mask)  # a multiplication: -mu*0 is -0, inf*0 is NaN
        t1 = mul(u, hp["eta"])
        phi = sub(p, t1)
        d = sub(phi, st["phi"])
        m = mul(d, mu_eff)
        return add(phi, m), {"phi": phi}


class Sgd:
    name, slots, defaults = "sgd", [], {"eta": "0.001"}

    @staticmethod
    def step(t, p, u, st, hp):
        return sub(p, mul(u, hp["eta"])), {}


class Adam:
    name, slots = "adam", ["g1", "g2"]
    defaults = {"eta": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8"}

    @staticmethod
    def step(t, p, u, st, hp):
        b1, b2 = float(hp["beta1"]), float(hp["beta2"])
        omb1 = f32_of_double(1.0 - b1)
        omb2 = f32_of_double(1.0 - b2)
        c1 = f32_of_double(1.0 - pow_double(b1, t))
        c2 = f32_of_double(1.0 - pow_double(b2, t))
        a = mul(hp["beta1"], st["g1"])
        b = mul(omb1, u)
        g1 = add(a, b)
        c = mul(u, u)
        d = mul(hp["beta2"], st["g2"])
        e = mul(omb2, c)
        g2 = add(d, e)
        f = div(g1, c1)
        h = mul(hp["eta"], f)
        i = div(g2, c2)
        j = sqrt(i)
        k = add(j, hp["eps"])
        l_ = div(h, k)
        return sub(p, l_), {"g1": g1, "g2": g2}


class Momentum:
    name, slots = "momentum", ["buf"]
    defaults = {"lr": "0.01", "momentum": "0", "dampening": "0", "weight_decay": "0", "nesterov": "0"}

    @staticmethod
    def step(t, p, u, st, hp):
        first = 1 if t == 1 else 0
        omd = f32_of_double(1.0 - float(hp["dampening"]))
        a = mul(hp["weight_decay"], p)
        g = add(u, a)
        b = mul(hp["momentum"], st["buf"])
        c = mul(omd, g)
        d = add(b, c)
        buf = select(first, g, d)
        e = mul(hp["momentum"], buf)
        f = add(g, e)
        s = select(hp["nesterov"], f, buf)
        h = mul(hp["lr"], s)
        return sub(p, h), {"buf": buf}


class Opaque:
    """A rule checked backend against backend only."""

    def __init__(self, name, slots, defaults):
        self.name, self.slots, self.defaults = name, slots, defaults
        self.step = None


RULES = {r.name: r for r in [
    Nag, Sgd, Adam, Momentum,
    Opaque("adamw", ["exp_avg", "exp_avg_sq"],
           {"lr": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8", "weight_decay": "0.01"}),
    Opaque("rmsprop", ["square_avg", "grad_avg", "momentum_buffer"],
           {"lr": "0.01", "alpha": "0.99", "eps": "1e-8", "weight_decay": "0", "momentum": "0", "centered": "0"}),
    Opaque("adagrad", ["sum"],
           {"lr": "0.01", "lr_decay": "0", "weight_decay": "0", "initial_accumulator_value": "0", "eps": "1e-10"}),
]}

# Hyperparameter sets per optimizer: lists of (name, text). Empty = the rule's defaults.
# 1 + 2^-24 + 2^-70 written out exactly: decimal -> double -> float32 would round it to 1.0 (a double
# rounding); the nearest float32 is 1 + 2^-23.
TIE_PLUS_DEC = "%d.%s" % (1, str((Fraction(1, 2 ** 24) + Fraction(1, 2 ** 70)) * 10 ** 70).split("/")[0].rjust(70, "0"))
HP_SETS = {
    "nag": [
        [],
        [("eta", "0.01"), ("mu", "0.9")],
        [("eta", "0x1.47ae14p-7"), ("mu", "0x1.ccccccp-1")],
        [("eta", "0.05"), ("mu", "-0.5")],
        [("eta", "0"), ("mu", "0.99")],
        [("eta", "-0.0"), ("mu", "-0")],
        [("eta", "1e-45"), ("mu", "3.4028235e38")],
        [("eta", "1e30"), ("mu", "1")],
        [("eta", TIE_PLUS_DEC), ("mu", "0x1.000001000000000001p-1")],
        [("eta", "3e-3"), ("mu", "0.3")],
    ],
    "sgd": [
        [],
        [("eta", "0.1")],
        [("eta", "-1.5")],
        [("eta", "0")],
        [("eta", "0x1.fffffep127")],
        [("eta", "1.17549435E-38")],
    ],
    "adam": [
        [],
        [("eta", "0.01"), ("beta1", "0.5"), ("beta2", "0.9"), ("eps", "1e-3")],
        [("beta1", "0"), ("beta2", "0")],
        [("beta1", "1"), ("beta2", "1")],
        [("beta1", "-0.9"), ("beta2", "1.5"), ("eps", "0")],
        [("eta", "-0.001"), ("eps", "1e-45"), ("beta1", "0x1.ccccccp-1")],
        [("beta1", "1e30"), ("beta2", "-1e20"), ("eta", "1e-30")],
    ],
    "momentum": [
        [],
        [("lr", "0.1"), ("momentum", "0.9"), ("nesterov", "1")],
        [("lr", "0.05"), ("momentum", "0.9"), ("dampening", "0.5"), ("weight_decay", "0.01")],
        [("lr", "0.01"), ("momentum", "-0.9"), ("dampening", "2"), ("weight_decay", "-1e-3"), ("nesterov", "0")],
        [("lr", "0"), ("momentum", "0"), ("nesterov", "1")],
        [("lr", "1e20"), ("momentum", "1e20"), ("dampening", "-1e30"), ("weight_decay", "1e-40")],
    ],
    "adamw": [
        [],
        [("lr", "0.01"), ("beta1", "0.3"), ("beta2", "0.5"), ("eps", "1e-4"), ("weight_decay", "0.1")],
        [("beta1", "1"), ("weight_decay", "0")],
    ],
    "rmsprop": [
        [],
        [("lr", "0.001"), ("alpha", "0.9"), ("momentum", "0.9"), ("centered", "1"), ("weight_decay", "0.01")],
        [("alpha", "0.2"), ("eps", "0"), ("centered", "1")],
    ],
    "adagrad": [
        [],
        [("lr", "0.1"), ("lr_decay", "0.01"), ("weight_decay", "0.001"), ("initial_accumulator_value", "0.1")],
        [("eps", "0"), ("lr_decay", "-0.5")],
    ],
}

# ---------------------------------------------------------------------------------------------
# Trajectories

SPECIAL_BITS = np.array([
    0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa12345, 0xffffffff,  # NaNs: quiet, negative, signalling, payloads
    0x7f800000, 0xff800000,  # +-inf
    0x00000000, 0x80000000,  # +-0
    0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00012345,  # subnormals
    0x00800000, 0x80800000,  # smallest normals
    0x7f7fffff, 0xff7fffff,  # +-FLT_MAX
    0x3f800000, 0xbf800000, 0x7effffff, 0x1f800000,
], dtype=np.uint32)


def values(rng, shape, mode):
    """float32 values: 'normal' (varied magnitudes), 'special' (mixed with special values), 'bits' (random patterns)."""
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if mode == "bits":
        v = from_bits(rng.integers(0, 2 ** 32, size=n, dtype=np.uint64).astype(np.uint32))
    else:
        v = (rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 2, n)).astype(np.float32)
        if mode == "special":
            pick = rng.random(n) < 0.3
            v[pick] = from_bits(rng.choice(SPECIAL_BITS, size=int(pick.sum())))
    return v.reshape(shape)


def make_case(rng, shapes, steps, mode, names=None):
    names = names or ["t%d" % i for i in range(len(shapes))]
    params = [(n, values(rng, s, mode)) for n, s in zip(names, shapes)]
    updates = [(n, np.stack([values(rng, s, mode) for _ in range(steps)]).astype(np.float32) if steps
               else np.zeros((0,) + tuple(s), np.float32)) for n, s in zip(names, shapes)]
    return params, updates


SHAPE_SETS = {
    "scalar": [()],
    "empty+one": [(0,), (1,), (2, 0)],
    "empty-only": [(0,), (2, 0, 3)],  # no element at all: only the step counter moves
    "mixed": [(), (1,), (3, 1, 2), (1000,), (0,), (7, 5)],
    "many": None,  # 120 tensors of odd sizes, filled in below
    "named": [(3,), (2, 2), (), (5,)],
}
ODD_NAMES = ["layer.0/weight", "\u00fcnicode-\u03bc", "emoji \U0001F600", "a\"b\\c"]


def expected(rule, params, updates, steps, hp):
    p = {n: a.copy() for n, a in params}
    st = {s: {n: np.zeros_like(a) for n, a in params} for s in rule.slots}
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            for n, _ in params:
                u = dict(updates)[n][t - 1]
                p[n], new = rule.step(t, p[n], u, {s: st[s][n] for s in rule.slots}, hp)
                for s in rule.slots:
                    st[s][n] = new[s]
    out = dict(p)
    for s in rule.slots:
        for n, _ in params:
            out["state/%s/%s" % (s, n)] = st[s][n]
    return out


# ---------------------------------------------------------------------------------------------
# Running nag4j


class Checker:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.failures, self.runs, self.cases = [], 0, 0

    def fail(self, msg):
        self.failures.append(msg)
        print("MISMATCH " + msg, flush=True)

    def replay(self, opt, hp_args, p, u, o, backend):
        cmd = [NAG4J, "replay", "--optimizer", opt]
        for k, v in hp_args:
            cmd += ["--hp", "%s=%s" % (k, v)]
        cmd += ["--params", p, "--updates", u, "--out", o, "--backend", backend]
        if os.path.exists(o):
            os.remove(o)
        self.runs += 1
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return r

    def run_case(self, label, rule, hp_args, params, updates, steps, data_order=None, metadata=None):
        self.cases += 1
        hp_text = dict(rule.defaults)
        hp_text.update(dict(hp_args))
        hp = {k: parse_java_float(v) for k, v in hp_text.items()}
        tag = "%s %s hp=%s" % (rule.name, label, ",".join("%s=%s" % kv for kv in hp_args) or "defaults")
        p = os.path.join(self.tmp, "P.safetensors")
        u = os.path.join(self.tmp, "U.safetensors")
        write_safetensors(p, params, metadata, data_order)
        write_safetensors(u, updates, metadata)
        want = expected(rule, params, updates, steps, hp) if rule.step else None
        results = {}
        for b in self.args.backends:
            o = os.path.join(self.tmp, "O-%s.safetensors" % b.replace(":", "_"))
            r = self.replay(rule.name, hp_args, p, u, o, b)
            if r.returncode != 0:
                self.fail("%s [%s]: exit %d, stderr: %s" % (tag, b, r.returncode, r.stderr.strip()))
                continue
            if r.stderr:
                self.fail("%s [%s]: exit 0 but stderr is not empty: %r" % (tag, b, r.stderr))
            if len(r.stdout.splitlines()) != 1:
                self.fail("%s [%s]: stdout is not one line: %r" % (tag, b, r.stdout))
            got = self.check_file(tag, b, rule, params, steps, hp, o)
            if got is None:
                continue
            results[b] = got
            ref = want if want is not None else results.get(self.args.backends[0])
            if ref is None or ref is got:
                continue
            bad = self.compare(tag, b, ref, got, params)
            if bad and want is not None and steps > 1:
                self.bisect(tag, b, rule, hp_args, hp, params, updates, steps)
        if self.args.verbose:
            print("ok   " + tag + " steps=%d tensors=%d" % (steps, len(params)) if not any(
                f.startswith(tag) for f in self.failures) else "FAIL " + tag, flush=True)

    def check_file(self, tag, b, rule, params, steps, hp, o):
        try:
            tensors, meta, order, problems = read_safetensors(o)
        except Exception as e:  # noqa: BLE001
            self.fail("%s [%s]: cannot read output: %s" % (tag, b, e))
            return None
        for pr in problems:
            self.fail("%s [%s]: output file: %s" % (tag, b, pr))
        names = [n for n, _ in params]
        want_names = names + ["state/%s/%s" % (s, n) for s in rule.slots for n in names]
        if set(tensors) != set(want_names):
            self.fail("%s [%s]: output tensors %s, expected %s" % (tag, b, sorted(tensors), sorted(want_names)))
        shapes = dict((n, a.shape) for n, a in params)
        for n in want_names:
            if n in tensors:
                dt, shape, _ = tensors[n]
                pn = n if n in shapes else n.split("/", 2)[2]
                if shape != tuple(shapes[pn]):
                    self.fail("%s [%s]: tensor %r has shape %s, expected %s" % (tag, b, n, list(shape), list(shapes[pn])))
        meta = meta or {}
        if meta.get("step") != str(steps):
            self.fail("%s [%s]: metadata step %r, expected %r" % (tag, b, meta.get("step"), str(steps)))
        if meta.get("optimizer") != rule.name:
            self.fail("%s [%s]: metadata optimizer %r" % (tag, b, meta.get("optimizer")))
        for k, v in hp.items():
            text = meta.get("hp." + k)
            if text is None or fbits(parse_java_float(text)) != fbits(v):
                self.fail("%s [%s]: metadata hp.%s = %r, expected %s" % (tag, b, k, text, show(v)))
        return {n: t[2] for n, t in tensors.items()}

    def compare(self, tag, b, ref, got, params):
        bad = False
        for n, want in ref.items():
            if n not in got or got[n].shape != want.shape:
                continue
            ok = same_bits(want, got[n])
            if not ok.all():
                bad = True
                idx = np.argwhere(~ok)
                first = tuple(int(i) for i in idx[0])
                self.fail("%s [%s]: tensor %r: %d of %d elements differ; first at %s: expected %s, got %s"
                          % (tag, b, n, len(idx), ok.size, list(first), show(want[first]), show(got[n][first])))
        return bad

    def bisect(self, tag, b, rule, hp_args, hp, params, updates, steps):
        """Finds the first step whose prefix replay differs, and prints the element's inputs at that step."""
        p = os.path.join(self.tmp, "Pb.safetensors")
        u = os.path.join(self.tmp, "Ub.safetensors")
        o = os.path.join(self.tmp, "Ob.safetensors")
        write_safetensors(p, params)
        lo, hi = 0, steps  # prefix lo matches (0 steps trivially), prefix hi differs

        def differs(k):
            write_safetensors(u, [(n, a[:k]) for n, a in updates])
            r = self.replay(rule.name, hp_args, p, u, o, b)
            if r.returncode != 0:
                return True
            got = {n: t[2] for n, t in read_safetensors(o)[0].items()}
            want = expected(rule, params, [(n, a[:k]) for n, a in updates], k, hp)
            return any(not same_bits(want[n], got[n]).all() for n in want if n in got)

        while hi - lo > 1:
            mid = (lo + hi) // 2
            if differs(mid):
                hi = mid
            else:
                lo = mid
        before = expected(rule, params, [(n, a[:hi - 1]) for n, a in updates], hi - 1, hp)
        after = expected(rule, params, [(n, a[:hi]) for n, a in updates], hi, hp)
        write_safetensors(u, [(n, a[:hi]) for n, a in updates])
        self.replay(rule.name, hp_args, p, u, o, b)
        got = {n: t[2] for n, t in read_safetensors(o)[0].items()}
        for n in after:
            ok = same_bits(after[n], got[n])
            if not ok.all():
                first = tuple(int(i) for i in np.argwhere(~ok)[0])
                pn = n if n in dict(params) else n.split("/", 2)[2]
                ins = ", ".join("%s=%s" % (k, show(before[k][first])) for k in before
                                if k == pn or k.endswith("/" + pn))
                print("  first differing step %d, tensor %r element %s: expected %s, got %s; before the step: %s; "
                      "update %s; hp %s" % (hi, n, list(first), show(after[n][first]), show(got[n][first]), ins,
                                            show(dict(updates)[pn][hi - 1][first]),
                                            {k: show(v) for k, v in hp.items()}), flush=True)
                break


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="cpu,opencl,reference", help="comma-separated --backend specs")
    ap.add_argument("--optimizers", default=",".join(RULES), help="comma-separated names")
    ap.add_argument("--seeds", default="1,2", help="comma-separated random seeds")
    ap.add_argument("--quick", action="store_true", help="fewer cases: one seed, fewer shape sets")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.backends = args.backends.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.quick:
        seeds = seeds[:1]
    with tempfile.TemporaryDirectory(prefix="nag4j-crosscheck-") as tmp:
        ck = Checker(args, tmp)
        for opt in args.optimizers.split(","):
            rule = RULES[opt]
            for seed in seeds:
                rng = np.random.default_rng([seed, sorted(RULES).index(opt)])
                many = [tuple(int(d) for d in rng.integers(1, 40, size=int(rng.integers(0, 3)))) for _ in range(120)]
                plan = [("scalar", 0, "normal"), ("scalar", 1, "special"), ("empty+one", 2, "special"),
                        ("mixed", 50, "normal"), ("mixed", 50, "special"), ("mixed", 2, "bits"),
                        ("many", 50, "normal"), ("named", 2, "special"), ("empty-only", 3, "normal")]
                if args.quick:
                    plan = [plan[1], plan[4], plan[6]]
                for i, hp_args in enumerate(HP_SETS[opt]):
                    for j, (shape_set, steps, mode) in enumerate(plan):
                        # Every hyperparameter set on the main plans; the rest rotate so each runs with some set.
                        if i and j not in (4, (i + seed) % len(plan)):
                            continue
                        shapes = many if shape_set == "many" else SHAPE_SETS[shape_set]
                        names = ODD_NAMES if shape_set == "named" else None
                        params, updates = make_case(rng, shapes, steps, mode, names)
                        order = None
                        if shape_set in ("mixed", "many", "named"):  # data laid out in another order than the header
                            order = [params[k][0] for k in rng.permutation(len(params))]
                        meta = {"source": "crosscheck", "seed": str(seed)} if shape_set == "named" else None
                        label = "seed=%d shapes=%s steps=%d values=%s" % (seed, shape_set, steps, mode)
                        ck.run_case(label, rule, hp_args, params, updates, steps, order, meta)
        print("%d cases, %d replays, %d mismatches" % (ck.cases, ck.runs, len(ck.failures)))
        return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main())
