#!/usr/bin/env python3
"""Hostile inputs through `./nag4j replay`: each bad input must exit 2 with exactly one line on
stderr naming the culprit, and write no output file (an existing output file stays as it was).

    python3 tools/crosscheck/hostile.py [-v]

Exit status 0 when every case behaved, 1 otherwise.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosscheck import NAG4J, write_safetensors  # noqa: E402

VERBOSE = "-v" in sys.argv
failures = []


def raw_file(path, header, data=b"", header_len=None, raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h) if header_len is None else header_len))
        f.write(h)
        f.write(data)


def entry(dtype, shape, b, e):
    return {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}


def run(args, cwd=None):
    return subprocess.run([NAG4J] + args, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=cwd)


def expect_bad(label, d, args, culprit, out="O.safetensors", code=2):
    """Runs replay twice: no output file, then an existing one that must stay untouched."""
    o = os.path.join(d, out)
    for existing in (False, True):
        if os.path.isfile(o):
            os.remove(o)
        if existing:
            if not os.path.isdir(os.path.dirname(o)):
                continue
            with open(o, "wb") as f:
                f.write(b"precious")
        r = run(args)
        lines = r.stderr.splitlines()
        problems = []
        if r.returncode != code:
            problems.append("exit %d, expected %d" % (r.returncode, code))
        if len(lines) != 1 or not r.stderr.endswith("\n"):
            problems.append("stderr is %d lines: %r" % (len(lines), r.stderr))
        elif culprit and culprit.lower() not in lines[0].lower():
            problems.append("stderr does not name %r: %r" % (culprit, lines[0]))
        if existing:
            if not os.path.isfile(o) or open(o, "rb").read() != b"precious":
                problems.append("the existing output file was changed")
        elif os.path.exists(o) and not os.path.isdir(o):
            problems.append("an output file was written")
        leftovers = [n for n in os.listdir(d) if n.endswith(".tmp")]
        if leftovers:
            problems.append("temporary files left: %s" % leftovers)
        if r.stdout:
            problems.append("stdout not empty: %r" % r.stdout)
        if problems:
            failures.append("%s: %s" % (label, "; ".join(problems)))
            print("FAIL %s: %s" % (label, "; ".join(problems)), flush=True)
            return
    if VERBOSE:
        print("ok   %-45s exit %d: %s" % (label, r.returncode, r.stderr.strip()), flush=True)


def main():
    with tempfile.TemporaryDirectory(prefix="nag4j-hostile-") as d:
        P, U, O = (os.path.join(d, n) for n in ("P.safetensors", "U.safetensors", "O.safetensors"))
        w = np.arange(6, dtype=np.float32).reshape(2, 3)
        write_safetensors(P, [("w", w), ("b", np.ones(3, np.float32))])
        write_safetensors(U, [("w", np.zeros((4, 2, 3), np.float32)), ("b", np.zeros((4, 3), np.float32))])
        X = os.path.join(d, "X.safetensors")  # the hostile file of each case
        base = ["replay", "--optimizer", "nag"]

        def with_params(path):
            return base + ["--params", path, "--updates", U, "--out", O]

        def with_updates(path):
            return base + ["--params", P, "--updates", path, "--out", O]

        # Sanity: the valid pair works, exit 0, empty stderr, one stdout line.
        r = run(with_updates(U))
        if r.returncode != 0 or r.stderr or len(r.stdout.splitlines()) != 1:
            failures.append("valid pair: exit %d, stderr %r, stdout %r" % (r.returncode, r.stderr, r.stdout))
        os.remove(O)

        # Files.
        expect_bad("missing params file", d, with_params(os.path.join(d, "nope.safetensors")), "nope.safetensors")
        expect_bad("missing updates file", d, with_updates(os.path.join(d, "nope.safetensors")), "nope.safetensors")
        sub = os.path.join(d, "adir")
        os.mkdir(sub)
        expect_bad("params is a directory", d, with_params(sub), "adir")
        expect_bad("updates is a directory", d, with_updates(sub), "adir")
        with open(X, "wb") as f:
            f.write(b"\x01\x00")
        expect_bad("file shorter than 8 bytes", d, with_params(X), "X.safetensors")
        open(X, "wb").close()
        expect_bad("empty file", d, with_params(X), "X.safetensors")
        good = open(P, "rb").read()
        with open(X, "wb") as f:
            f.write(good[:-5])
        expect_bad("truncated data", d, with_params(X), "X.safetensors")
        with open(X, "wb") as f:
            f.write(good[:20])
        expect_bad("truncated header", d, with_params(X), "X.safetensors")
        hdr = {"w": entry("F32", [2], 0, 8)}
        for n in (2 ** 63, 2 ** 64 - 1, 10 ** 9, 2 ** 31):
            raw_file(X, hdr, b"\0" * 8, header_len=n)
            expect_bad("header length %d" % n, d, with_params(X), "X.safetensors")
        raw_file(X, None, b"", raw_header=b"not json at all!")
        expect_bad("header not JSON", d, with_params(X), "X.safetensors")
        raw_file(X, None, b"", raw_header=b"[1, 2, 3]       ")
        expect_bad("header a JSON array", d, with_params(X), "X.safetensors")
        raw_file(X, None, b"\0" * 8, raw_header=b'{"w\xff": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}')
        expect_bad("header invalid UTF-8", d, with_params(X), "X.safetensors")
        raw_file(X, None, b"\0" * 8, raw_header=b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}} trailing')
        expect_bad("header with trailing garbage", d, with_params(X), "X.safetensors")
        raw_file(X, None, b"\0" * 16, raw_header=b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},'
                                                 b' "w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}')
        expect_bad("duplicate tensor name", d, with_params(X), "'w'")
        raw_file(X, {"w": entry("F32", [2], 0, 12)}, b"\0" * 12)
        expect_bad("offsets disagree with shape", d, with_params(X), "'w'")
        raw_file(X, {"w": entry("F32", [2], 4, 12)}, b"\0" * 8)
        expect_bad("offsets past the end", d, with_params(X), "'w'")
        raw_file(X, {"w": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}, b"\0" * 12)
        expect_bad("overlapping tensors", d, with_params(X), "X.safetensors")
        raw_file(X, {"w": entry("F32", [2], 8, 0)}, b"\0" * 8)
        expect_bad("begin > end", d, with_params(X), "'w'")
        raw_file(X, {"w": entry("F32", [-2], 0, 8)}, b"\0" * 8)
        expect_bad("negative dimension", d, with_params(X), "'w'")
        raw_file(X, {"w": entry("F32", [2 ** 40], 0, 2 ** 42)}, b"\0" * 8)
        expect_bad("huge shape claimed", d, with_params(X), "'w'")
        raw_file(X, {"w": entry("F32", [2 ** 62, 2 ** 62], 0, 8)}, b"\0" * 8)
        expect_bad("shape overflows a long", d, with_params(X), "'w'")
        raw_file(X, {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0.5, 8]}}, b"\0" * 8)
        expect_bad("fractional offset", d, with_params(X), "'w'")
        raw_file(X, {"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8)
        expect_bad("missing data_offsets", d, with_params(X), "'w'")
        raw_file(X, {"w": entry("F32", [2], 0, 8), "__metadata__": {"k": 1}}, b"\0" * 8)
        expect_bad("metadata not strings", d, with_params(X), "__metadata__")
        raw_file(X, {"w": entry("F32", [2], 0, 8)}, b"\0" * 12)
        expect_bad("trailing bytes", d, with_params(X), "X.safetensors")
        # F16 and BF16 are read (widened exactly): sized as F32 they are refused like any wrong size.
        for dt, size in (("F33", 4), ("F64", 8), ("F16", 4), ("BF16", 4), ("I32", 4), ("f32", 4)):
            raw_file(X, {"w": entry(dt, [2, 3], 0, 6 * size), "b": entry("F32", [3], 6 * size, 6 * size + 12)},
                     b"\0" * (6 * size + 12))
            expect_bad("params dtype %s" % dt, d, with_params(X), dt)
            raw_file(X, {"w": entry("F32", [4, 2, 3], 0, 96), "b": entry(dt, [4, 3], 96, 96 + 12 * size)},
                     b"\0" * (96 + 12 * size))
            expect_bad("updates dtype %s" % dt, d, with_updates(X), dt)

        # Trajectory shape.
        write_safetensors(X, [("w", np.zeros((4, 2, 3), np.float32))])
        expect_bad("missing update tensor", d, with_updates(X), "'b'")
        write_safetensors(X, [("w", np.zeros((4, 2, 3), np.float32)), ("b", np.zeros((4, 3), np.float32)),
                              ("c", np.zeros((4, 3), np.float32))])
        expect_bad("extra update tensor", d, with_updates(X), "'c'")
        write_safetensors(X, [("w", np.zeros((4, 3, 2), np.float32)), ("b", np.zeros((4, 3), np.float32))])
        expect_bad("update shape mismatch", d, with_updates(X), "'w'")
        write_safetensors(X, [("w", np.zeros((2, 3), np.float32)), ("b", np.zeros((4, 3), np.float32))])
        expect_bad("update of the param's rank", d, with_updates(X), "'w'")
        write_safetensors(X, [("w", np.zeros((1, 4, 2, 3), np.float32)), ("b", np.zeros((4, 3), np.float32))])
        expect_bad("update rank + 2", d, with_updates(X), "'w'")
        write_safetensors(X, [("w", np.zeros((4, 2, 3), np.float32)), ("b", np.zeros((5, 3), np.float32))])
        expect_bad("inconsistent step counts", d, with_updates(X), "'b'")
        write_safetensors(X, [], {"only": "metadata"})
        expect_bad("params with zero tensors", d, with_params(X), "no tensors")
        write_safetensors(X, [("state/phi/w", w)])
        expect_bad("param named state/...", d, with_params(X), "state/phi/w")

        # Options.
        ok = ["--params", P, "--updates", U, "--out", O]
        expect_bad("unknown optimizer", d, ["replay", "--optimizer", "nadam"] + ok, "nadam")
        expect_bad("empty optimizer", d, ["replay", "--optimizer", ""] + ok, "optimizer")
        for hp, culprit in (("lr=0.1", "lr"), ("eta", "eta"), ("eta=nan", "eta"), ("eta=NaN", "eta"),
                            ("eta=inf", "eta"), ("eta=Infinity", "eta"), ("eta=-Infinity", "eta"),
                            ("eta=1e39", "eta"), ("eta=-1e39", "eta"), ("eta=0x1p128", "eta"), ("eta=", "eta"),
                            ("eta= ", "eta"), ("=0.1", "=0.1"), ("eta=0.1.2", "eta"), ("eta=0x", "eta"),
                            ("eta=1,5", "eta"), ("ETA=0.1", "ETA")):
            expect_bad("--hp %s" % hp, d, base + ["--hp", hp] + ok, culprit)
        expect_bad("duplicate --hp", d, base + ["--hp", "eta=0.1", "--hp", "eta=0.2"] + ok, "eta")
        expect_bad("momentum nesterov=0.5", d, ["replay", "--optimizer", "momentum", "--hp", "nesterov=0.5"] + ok,
                   "nesterov")
        expect_bad("unknown backend", d, base + ok + ["--backend", "tpu"], "tpu")
        expect_bad("backend empty", d, base + ok + ["--backend", ""], "backend")
        expect_bad("backend opencl:7", d, base + ok + ["--backend", "opencl:7"], "opencl:7")
        expect_bad("backend opencl:-1", d, base + ok + ["--backend", "opencl:-1"], "opencl:-1")
        expect_bad("backend opencl:x", d, base + ok + ["--backend", "opencl:x"], "opencl:x")
        expect_bad("backend cpu:1", d, base + ok + ["--backend", "cpu:1"], "cpu:1")
        expect_bad("missing --params", d, base + ["--updates", U, "--out", O], "--params")
        expect_bad("unknown option", d, base + ok + ["--steps", "3"], "--steps")

        # Output paths.
        expect_bad("out into a missing directory", d, base + ["--params", P, "--updates", U, "--out",
                                                              os.path.join(d, "no", "O.safetensors")], "no",
                   out=os.path.join("no", "O.safetensors"))
        expect_bad("out is a directory", d, base + ["--params", P, "--updates", U, "--out", sub], "adir",
                   out="adir/none")
        for which, args in (("params", ["--params", P, "--updates", U, "--out", P]),
                            ("updates", ["--params", P, "--updates", U, "--out", U])):
            before = open(P if which == "params" else U, "rb").read()
            r = run(base + args)
            after = open(P if which == "params" else U, "rb").read()
            if r.returncode != 2 or before != after or len(r.stderr.splitlines()) != 1:
                failures.append("out == %s: exit %d, input %s, stderr %r" % (
                    which, r.returncode, "unchanged" if before == after else "OVERWRITTEN", r.stderr))
                print("FAIL " + failures[-1], flush=True)
                with open(P if which == "params" else U, "wb") as f:
                    f.write(before)
            elif VERBOSE:
                print("ok   out == %s: exit 2: %s" % (which, r.stderr.strip()))

        # cuda on a machine without it: the environment, not the input; docs/replay.md says which code.
        if os.path.exists(O):
            os.remove(O)
        r = run(base + ok + ["--backend", "cuda"])
        if r.returncode == 0:
            print("info --backend cuda: CUDA is here, exit 0")
            os.remove(O)
        elif (r.returncode != 1 or len(r.stderr.splitlines()) != 1 or "internal error" in r.stderr
              or os.path.exists(O)):
            failures.append("--backend cuda without CUDA: exit %d (docs/replay.md: 1, one line), stderr %r"
                            % (r.returncode, r.stderr))
            print("FAIL " + failures[-1], flush=True)
        elif VERBOSE:
            print("ok   --backend cuda without CUDA: exit 1: " + r.stderr.strip())

        # Relative paths resolve against the caller's working directory; stderr stays clean.
        rel = tempfile.mkdtemp(prefix="nag4j-cwd-")
        write_safetensors(os.path.join(rel, "p.safetensors"), [("w", w)], {"any": "metadata"})
        write_safetensors(os.path.join(rel, "u.safetensors"), [("w", np.ones((2, 2, 3), np.float32))], {"x": "y"})
        r = run(["replay", "--optimizer", "sgd", "--params", "p.safetensors", "--updates", "u.safetensors",
                 "--out", "o.safetensors"], cwd=rel)
        if r.returncode != 0 or r.stderr or not os.path.isfile(os.path.join(rel, "o.safetensors")):
            failures.append("relative paths from another cwd: exit %d, stderr %r" % (r.returncode, r.stderr))
            print("FAIL " + failures[-1])
        elif VERBOSE:
            print("ok   relative paths from another cwd, metadata in inputs: " + r.stdout.strip())

    print("%d hostile-input failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
