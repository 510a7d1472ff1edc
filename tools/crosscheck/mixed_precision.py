"""Independent check of `nag4j replay` with BF16 and F16 params (issue 14): NAG written again in numpy
float32 on float32 master weights, the params rounded to nearest even by bit arithmetic (bf16) and numpy's
float16 cast (f16); the output's params, state/phi/* and state/master/* compared bit for bit.

    python3 tools/crosscheck/mixed_precision.py SEED [BACKEND ...]     (from the repository root)
"""
import os, subprocess, sys, tempfile, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sixteen import bf16_round, read, write
D = tempfile.mkdtemp(prefix="nag4j-mp-")
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
def f16_round(x):
    return x.astype(np.float16).astype(np.float32)
steps, eta, mu = 9, np.float32(0.05), np.float32(0.9)
shapes = {"w": (3, 4), "b": (5,), "c": (2,)}
dtypes = {"w": "BF16", "b": "F16"}  # c stays F32
P = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
P["w"] = bf16_round(P["w"]); P["b"] = f16_round(P["b"])
U = {k: rng.standard_normal((steps,) + s).astype(np.float32) for k, s in shapes.items()}
write(os.path.join(D, "P.safetensors"), P, dtypes); write(os.path.join(D, "U.safetensors"), U, {"w": "BF16"})
U["w"] = bf16_round(U["w"])  # the file holds them as bf16
res = {}
for k in shapes:
    master = P[k].copy(); phi_old = np.zeros_like(master)
    for t in range(1, steps + 1):
        phi = (master - U[k][t-1] * eta).astype(np.float32)
        master = (phi + (phi - phi_old) * (mu * np.float32(t > 1))).astype(np.float32)
        phi_old = phi
    p = bf16_round(master) if dtypes.get(k) == "BF16" else f16_round(master) if dtypes.get(k) == "F16" else master
    res[k] = (p, master, phi_old)
for backend in sys.argv[2:] or ["cpu"]:
    subprocess.run(["./nag4j", "replay", "--optimizer", "nag", "--hp", "eta=0.05", "--hp", "mu=0.9", "--params", os.path.join(D, "P.safetensors"),
                    "--updates", os.path.join(D, "U.safetensors"), "--out", os.path.join(D, "O.safetensors"), "--backend", backend], check=True)
    O = read(os.path.join(D, "O.safetensors")); bad = 0
    for k in shapes:
        dt, v = O[k]
        assert dt == dtypes.get(k, "F32"), (k, dt)
        bad += np.sum(v.view(np.uint32) != res[k][0].view(np.uint32))
        bad += np.sum(O["state/phi/" + k][1].view(np.uint32) != res[k][2].view(np.uint32))
        if k in dtypes:
            bad += np.sum(O["state/master/" + k][1].view(np.uint32) != res[k][1].view(np.uint32))
        else:
            assert "state/master/" + k not in O
    print(backend, "mismatches:", bad)
    if bad: sys.exit(3)
