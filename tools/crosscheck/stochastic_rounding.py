"""Independent check of stochastic rounding (issue 14) from its written definition (docs/mixed-precision.md):
Philox-4x32-10 and the bf16/f16 rounding written again in numpy, NAG on float32 master weights, and
`nag4j replay --rounding stochastic --seed S` on each backend compared bit for bit (params, state/phi/*,
state/master/*). Philox is first checked against Random123's published known answers.

    python3 tools/crosscheck/stochastic_rounding.py SEED [BACKEND ...]     (from the repository root)
"""
import os, subprocess, sys, tempfile, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sixteen import bf16_round, read, write

MASK = np.uint64(0xffffffff)
def philox_word0(c0, c1, c2, c3, k0, k1):
    """Philox-4x32-10 (Random123's philox4x32_10) on uint64 arrays holding 32-bit words; returns all four words."""
    c = [np.asarray(x, dtype=np.uint64) & MASK for x in (c0, c1, c2, c3)]
    k0, k1 = np.uint64(k0) & MASK, np.uint64(k1) & MASK
    for r in range(10):
        if r:
            k0, k1 = (k0 + np.uint64(0x9E3779B9)) & MASK, (k1 + np.uint64(0xBB67AE85)) & MASK
        p0, p1 = np.uint64(0xD2511F53) * c[0], np.uint64(0xCD9E8D57) * c[2]  # 32 x 32 bits: no overflow in 64
        c = [((p1 >> np.uint64(32)) ^ c[1] ^ k0) & MASK, p1 & MASK, ((p0 >> np.uint64(32)) ^ c[3] ^ k1) & MASK, p0 & MASK]
    return c

for ctr, key, want in [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
                       ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
                       ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0), (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]:
    got = tuple(int(w) for w in philox_word0(*ctr, *key))
    assert got == want, (ctr, key, [hex(g) for g in got])

def uniform(seed, step, tensor, n):
    """The uniform of each element 0..n-1: counter (element, element >> 32, tensor, step mod 2^32), key (seed low, seed high)."""
    e = np.arange(n, dtype=np.uint64)
    s = seed & 0xffffffffffffffff
    w = philox_word0(e & MASK, e >> np.uint64(32), np.full(n, tensor, np.uint64), np.full(n, step & 0xffffffff, np.uint64),
                     s & 0xffffffff, s >> 32)[0]
    return ((w >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)).astype(np.float32)

def bf16_sr(x, u):
    b = x.view(np.uint32).astype(np.uint64)
    nan = (b & 0x7fffffff) > 0x7f800000
    frac = (b & 0xffff).astype(np.float32) * np.float32(2.0 ** -16)
    lo = b & 0xffff0000
    r = np.where((frac > 0) & (u < frac), lo + 0x10000, lo)
    r = np.where(nan, (b | 0x00400000) & 0xffff0000, r)
    return (r & 0xffffffff).astype(np.uint32).view(np.float32)

def f16_sr(x, u):
    b = x.view(np.uint32).astype(np.uint64); sign = b & 0x80000000; a = b & 0x7fffffff
    frac_n = (a & 0x1fff).astype(np.float32) * np.float32(2.0 ** -13)
    m = a & 0xffffe000
    m = np.where((frac_n > 0) & (u < frac_n), m + 0x2000, m)
    normal = np.where(m >= 0x47800000, 0x7f800000, m)
    y = (a.astype(np.uint32).view(np.float32) * np.float32(2.0 ** 24)).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        f = np.floor(y).astype(np.float32); frac_s = (y - f).astype(np.float32)
        f = np.where((frac_s > 0) & (u < frac_s), f + np.float32(1), f).astype(np.float32)
        sub = (f * np.float32(2.0 ** -24)).astype(np.float32).view(np.uint32).astype(np.uint64)
    r = np.where(a >= 0x38800000, normal, sub)
    r = np.where(a >= 0x47800000, 0x7f800000, r) | sign
    r = np.where(a > 0x7f800000, (b | 0x00400000) & 0xffffe000, r)
    return (r & 0xffffffff).astype(np.uint32).view(np.float32)



seed_arg = int(sys.argv[1]) if len(sys.argv) > 1 else 0
rng = np.random.default_rng(seed_arg)
key = int(rng.integers(-2 ** 63, 2 ** 63 - 1))          # the rounding's --seed, a 64-bit integer (negative too)
D = tempfile.mkdtemp(prefix="nag4j-sr-")
steps, eta, mu = 11, np.float32(0.003), np.float32(0.9)
shapes = {"w": (30, 7), "b": (50,), "v": (3, 3, 3), "c": (4,)}
dtypes = {"w": "BF16", "b": "F16", "v": "BF16"}           # c stays F32
index = {"w": 0, "v": 1, "b": 0}                          # the tensor index: among the params of the same dtype, in file order
P = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
P["w"], P["v"] = bf16_round(P["w"]), bf16_round(P["v"]); P["b"] = P["b"].astype(np.float16).astype(np.float32)
U = {k: (rng.standard_normal((steps,) + s) * 0.1).astype(np.float32) for k, s in shapes.items()}
write(os.path.join(D, "P.safetensors"), P, dtypes); write(os.path.join(D, "U.safetensors"), U, {})
expected = {}
for k in shapes:
    master = P[k].copy().ravel(); phi_old = np.zeros_like(master); param = master.copy()
    for t in range(1, steps + 1):
        phi = (master - U[k][t - 1].ravel() * eta).astype(np.float32)
        master = (phi + (phi - phi_old) * (mu * np.float32(t > 1))).astype(np.float32)
        phi_old = phi
        if k in dtypes:
            u = uniform(key, t, index[k], master.size)
            param = bf16_sr(master, u) if dtypes[k] == "BF16" else f16_sr(master, u)
        else:
            param = master
    expected[k] = (param, master, phi_old)
moved = sum(int(np.sum(expected[k][0].view(np.uint32) != bf16_round(expected[k][1]).view(np.uint32))) for k in ("w", "v"))
assert moved > 0, "stochastic rounding gave every bf16 param its nearest value"
for backend in sys.argv[2:] or ["cpu"]:
    out = os.path.join(D, "O-" + backend.replace(":", "_") + ".safetensors")
    subprocess.run(["./nag4j", "replay", "--optimizer", "nag", "--hp", "eta=0.003", "--hp", "mu=0.9", "--params", os.path.join(D, "P.safetensors"),
                    "--updates", os.path.join(D, "U.safetensors"), "--out", out, "--backend", backend,
                    "--rounding", "stochastic", "--seed", str(key)], check=True, stdout=subprocess.DEVNULL)
    O = read(out); bad = 0
    for k in shapes:
        dt, v = O[k]
        assert dt == dtypes.get(k, "F32"), (k, dt)
        bad += int(np.sum(v.ravel().view(np.uint32) != expected[k][0].view(np.uint32)))
        bad += int(np.sum(O["state/phi/" + k][1].ravel().view(np.uint32) != expected[k][2].view(np.uint32)))
        if k in dtypes:
            bad += int(np.sum(O["state/master/" + k][1].ravel().view(np.uint32) != expected[k][1].view(np.uint32)))
    print(backend, "seed", key, "mismatches:", bad, "(params, state/phi, state/master;", moved, "bf16 params not at their nearest value)")
    if bad: sys.exit(3)
