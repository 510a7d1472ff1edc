package io.nag4j.bench.cli;

import io.nag4j.core.golden.Bits;
import io.nag4j.core.golden.NagGolden;
import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.io.Safetensors;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.Drivers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nag4j replay}: golden trajectories bit for bit, and every kind of bad input refused with exit 2. */
class ReplayCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result nag4j(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Writes {@code P} and {@code U} for a golden trajectory: U[name] has shape [steps, *shape]. */
    void writeTrajectory(NagGolden.Trajectory tr, Path p, Path u) throws IOException {
        List<Tensor> ps = new ArrayList<>(), us = new ArrayList<>();
        try {
            for (int i = 0; i < tr.names().size(); i++) {
                long[] shape = tr.shapes().get(i);
                ps.add(Tensor.of(tr.names().get(i), tr.theta0().get(i), shape));
                int n = tr.theta0().get(i).length;
                float[] all = new float[tr.steps() * n];
                for (int s = 0; s < tr.steps(); s++) System.arraycopy(tr.updates()[s][i], 0, all, s * n, n);
                long[] ushape = new long[shape.length + 1];
                ushape[0] = tr.steps();
                System.arraycopy(shape, 0, ushape, 1, shape.length);
                us.add(Tensor.of(tr.names().get(i), all, ushape));
            }
            Safetensors.write(p, ps, Map.of());
            Safetensors.write(u, us, Map.of("note", "golden case " + tr.name()));
        } finally {
            ps.forEach(Tensor::close);
            us.forEach(Tensor::close);
        }
    }

    @ParameterizedTest(name = "backend {0}")
    @ValueSource(strings = {"cpu", "reference", "opencl", "opencl:0"})
    void goldenCaseBReplaysBitForBit(String backend) throws IOException {
        if (backend.startsWith("opencl")) ReplayBackendsAgreeTest.openClOrSkip();
        NagGolden.Trajectory tr = NagGolden.caseB();
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("O.safetensors");
        writeTrajectory(tr, p, u);
        Result r = nag4j("replay", "--optimizer", "nag", "--hp", "eta=0.01", "--hp", "mu=0.9",
                "--params", p.toString(), "--updates", u.toString(), "--out", o.toString(), "--backend", backend);
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("replayed 300 steps of nag"), r.out());
        NagGolden.Expect last = tr.expect().get(300);
        try (Safetensors.Contents c = Safetensors.read(o)) {
            assertEquals(List.of("t0", "t1", "t2", "state/phi/t0", "state/phi/t1", "state/phi/t2"), c.tensors().names());
            assertEquals("300", c.metadata().get("step"));
            assertEquals("nag", c.metadata().get("optimizer"));
            assertEquals("0.01", c.metadata().get("hp.eta"));
            assertEquals("0.9", c.metadata().get("hp.mu"));
            List<float[]> theta = new ArrayList<>(), phi = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String name = tr.names().get(i);
                assertArrayEquals(tr.shapes().get(i), c.tensors().get(name).shape(), name + " shape");
                theta.add(c.tensors().get(name).toArray());
                phi.add(c.tensors().get("state/phi/" + name).toArray());
                Bits.assertSame(last.theta()[i], theta.get(i), "case B final theta " + name + " on " + backend);
                Bits.assertSame(last.phi()[i], phi.get(i), "case B final phi " + name + " on " + backend);
            }
            NagGolden.check(tr, 300, theta, phi);  // also the per-step SHA-256 of the final step
        }
        try (Checkpoint ck = Checkpoint.load(o, Nag.INSTANCE)) {
            assertEquals(300, ck.state().step());
        }
    }

    @Test
    void everyGoldenCaseReplaysBitForBitWithDefaultsAndHexFloats() throws IOException {
        for (NagGolden.Trajectory tr : NagGolden.all()) {
            Path p = dir.resolve(tr.name() + "-P.safetensors"), u = dir.resolve(tr.name() + "-U.safetensors");
            Path o = dir.resolve(tr.name() + "-O.safetensors");
            writeTrajectory(tr, p, u);
            // No --hp gives the rule's defaults; the hex-float spelling is the same float32.
            for (String[] hp : List.of(new String[0], new String[] {"--hp", "eta=0x1.47ae14p-7", "--hp", "mu=0x1.ccccccp-1"})) {
                List<String> args = new ArrayList<>(List.of("replay", "--optimizer", "NAG", "--params", p.toString(),
                        "--updates", u.toString(), "--out", o.toString()));
                args.addAll(Arrays.asList(hp));
                Result r = nag4j(args.toArray(String[]::new));
                assertEquals(0, r.code(), r.err());
                try (Checkpoint ck = Checkpoint.load(o, Nag.INSTANCE)) {
                    List<float[]> theta = new ArrayList<>(), phi = new ArrayList<>();
                    for (int i = 0; i < ck.params().size(); i++) {
                        theta.add(ck.params().get(i).toArray());
                        phi.add(ck.state().slot("phi").get(i).toArray());
                    }
                    assertEquals(tr.steps(), ck.state().step());
                    NagGolden.check(tr, tr.steps(), theta, phi);
                }
            }
        }
    }

    @Test
    void hyperparametersAreAppliedAsGiven() throws IOException {
        // eta 0.02, mu 0.5 against the hand-written reference run in the test.
        NagGolden.Trajectory tr = NagGolden.caseB();
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("O.safetensors");
        writeTrajectory(tr, p, u);
        Result r = nag4j("replay", "--optimizer", "nag", "--hp", "mu=0.5", "--hp=eta=0.02",
                "--params", p.toString(), "--updates", u.toString(), "--out", o.toString());
        assertEquals(0, r.code(), r.err());
        var hp = Nag.INSTANCE.defaults().with("eta", 0.02f).with("mu", 0.5f);
        Optimizer ref = ReferenceOptimizer.forRule("nag", hp);
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < 3; i++) ts.add(Tensor.of(tr.names().get(i), tr.theta0().get(i), tr.shapes().get(i)));
        try (ParamSet params = new ParamSet(ts); ParamSet upd = params.zerosLike(""); OptState st = ref.init(params);
             Checkpoint ck = Checkpoint.load(o, Nag.INSTANCE)) {
            for (int s = 0; s < tr.steps(); s++) {
                for (int i = 0; i < 3; i++) upd.get(i).copyFrom(tr.updates()[s][i]);
                ref.step(st, params, upd);
            }
            assertEquals(hp, ck.hyperparams());
            for (int i = 0; i < 3; i++) {
                Bits.assertSame(params.get(i), ck.params().get(i), "theta");
                Bits.assertSame(st.slot("phi").get(i), ck.state().slot("phi").get(i), "phi");
            }
        }
    }

    @Test
    void scalarParamAndZeroSteps() throws IOException {
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("O.safetensors");
        try (Tensor s = Tensor.of("s", new float[] {2.0f}, new long[0]); Tensor us = Tensor.of("s", new float[] {1.0f, -3.0f}, 2)) {
            Safetensors.write(p, List.of(s), Map.of());
            Safetensors.write(u, List.of(us), Map.of());
        }
        Result r = nag4j("replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u.toString(), "--out", o.toString());
        assertEquals(0, r.code(), r.err());
        // By hand, the seed's rule: step 1: phi = 2 - 0.01*1 = 1.99, mu_eff = 0, param = phi.
        // Step 2: phi2 = 1.99 - 0.01*(-3); param = phi2 + (phi2 - 1.99) * 0.9, each op in float32.
        float phi1 = 2.0f - 1.0f * 0.01f;
        float phi2 = phi1 - (-3.0f * 0.01f);
        float param2 = phi2 + (phi2 - phi1) * 0.9f;
        try (Checkpoint ck = Checkpoint.load(o, Nag.INSTANCE)) {
            assertArrayEquals(new long[0], ck.params().get("s").shape());
            Bits.assertSame(new float[] {param2}, ck.params().get("s").toArray(), "scalar param");
            Bits.assertSame(new float[] {phi2}, ck.state().slot("phi").get("s").toArray(), "scalar phi");
            assertEquals(2, ck.state().step());
        }

        // Zero steps: params unchanged, phi zero, step 0.
        Path u0 = dir.resolve("U0.safetensors"), o0 = dir.resolve("O0.safetensors");
        try (Tensor us = Tensor.zeros("s", 0)) {
            Safetensors.write(u0, List.of(us), Map.of());
        }
        r = nag4j("replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u0.toString(), "--out", o0.toString());
        assertEquals(0, r.code(), r.err());
        try (Checkpoint ck = Checkpoint.load(o0, Nag.INSTANCE)) {
            Bits.assertSame(new float[] {2.0f}, ck.params().get("s").toArray(), "param after 0 steps");
            Bits.assertSame(new float[] {0.0f}, ck.state().slot("phi").get("s").toArray(), "phi after 0 steps");
            assertEquals(0, ck.state().step());
        }
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)  // a hang guard, not a timing assertion
    void emptyTensorsWithAHugeStepCountFinishAndCountTheSteps() throws IOException {
        // [2^40, 0] holds no bytes, so a 100-byte file can claim 2^40 steps; the replay looped over all of them.
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("O.safetensors");
        long steps = 1L << 40;
        writeTensors(p, Tensor.zeros("e", 0), Tensor.zeros("f", 2, 0, 3));
        writeTensors(u, Tensor.zeros("e", steps, 0), Tensor.zeros("f", steps, 2, 0, 3));
        for (String backend : List.of("cpu", "reference")) {
            Result r = nag4j("replay", "--optimizer", "adam", "--params", p.toString(), "--updates", u.toString(),
                    "--out", o.toString(), "--backend", backend);
            assertEquals(0, r.code(), r.err());
            try (Safetensors.Contents c = Safetensors.read(o)) {
                assertEquals(String.valueOf(steps), c.metadata().get("step"), backend);
                assertEquals(List.of("e", "f", "state/g1/e", "state/g1/f", "state/g2/e", "state/g2/f"), c.tensors().names());
                assertArrayEquals(new long[] {2, 0, 3}, c.tensors().get("state/g2/f").shape());
            }
        }
    }

    // ---------------------------------------------------------------- bad input

    /** A valid pair: params w [2], b [3]; updates w [4, 2], b [4, 3]. */
    void writeValid(Path p, Path u) throws IOException {
        try (Tensor w = Tensor.of("w", 1, 2); Tensor b = Tensor.of("b", 3, 4, 5);
             Tensor uw = Tensor.of("w", new float[8], 4, 2); Tensor ub = Tensor.of("b", new float[12], 4, 3)) {
            Safetensors.write(p, List.of(w, b), Map.of());
            Safetensors.write(u, List.of(uw, ub), Map.of());
        }
    }

    void writeTensors(Path file, Tensor... ts) throws IOException {
        try {
            Safetensors.write(file, List.of(ts), Map.of());
        } finally {
            for (Tensor t : ts) t.close();
        }
    }

    /** A file whose only tensor has another dtype. */
    Path foreign(String name, String dtype, String shape, int bytes) throws IOException {
        byte[] h = ("{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[0," + bytes + "]}}")
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = Files.createTempFile(dir, dtype, ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    void assertRejected(String culprit, Path o, String... args) {
        Result r = nag4j(args);
        assertEquals(2, r.code(), "exit code for " + Arrays.toString(args) + "; stderr: " + r.err());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "stderr must be one line, got:\n" + r.err());
        assertTrue(line.startsWith("nag4j: "), line);
        assertTrue(line.contains(culprit), "stderr '" + line + "' should name '" + culprit + "'");
        assertFalse(Files.exists(o), "no output file may be written on bad input");
        assertFalse(line.contains("Exception"), "no exception class names for bad input: " + line);
    }

    @Test
    void badFilesAreRefusedWithExit2() throws IOException {
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors");
        writeValid(p, u);
        Path o = dir.resolve("never.safetensors");
        String[] base = {"replay", "--optimizer", "nag", "--out", o.toString()};

        // Missing files.
        assertRejected("missing-P.safetensors", o, cat(base, "--params", dir.resolve("missing-P.safetensors").toString(), "--updates", u.toString()));
        assertRejected("missing-U.safetensors", o, cat(base, "--params", p.toString(), "--updates", dir.resolve("missing-U.safetensors").toString()));

        // A param with no update tensor, an update tensor with no param.
        Path uNoB = dir.resolve("U-no-b.safetensors");
        writeTensors(uNoB, Tensor.of("w", new float[8], 4, 2));
        assertRejected("param 'b' has no update tensor", o, cat(base, "--params", p.toString(), "--updates", uNoB.toString()));
        Path uExtra = dir.resolve("U-extra.safetensors");
        writeTensors(uExtra, Tensor.of("w", new float[8], 4, 2), Tensor.of("b", new float[12], 4, 3), Tensor.of("extra", new float[4], 4, 1));
        assertRejected("update tensor 'extra'", o, cat(base, "--params", p.toString(), "--updates", uExtra.toString()));

        // Shape mismatches: wrong trailing shape, no steps dimension; inconsistent steps.
        Path uShape = dir.resolve("U-shape.safetensors");
        writeTensors(uShape, Tensor.of("w", new float[12], 4, 3), Tensor.of("b", new float[12], 4, 3));
        assertRejected("update tensor 'w' has shape [4, 3] but param 'w' has shape [2], so it must be [steps, 2]", o,
                cat(base, "--params", p.toString(), "--updates", uShape.toString()));
        Path uRank = dir.resolve("U-rank.safetensors");
        writeTensors(uRank, Tensor.of("w", new float[2], 2), Tensor.of("b", new float[12], 4, 3));
        assertRejected("update tensor 'w' has shape [2]", o, cat(base, "--params", p.toString(), "--updates", uRank.toString()));
        Path uSteps = dir.resolve("U-steps.safetensors");
        writeTensors(uSteps, Tensor.of("w", new float[8], 4, 2), Tensor.of("b", new float[9], 3, 3));
        assertRejected("update tensor 'b' has 3 steps but 'w' has 4", o, cat(base, "--params", p.toString(), "--updates", uSteps.toString()));

        // A param name the output reserves for state.
        Path pState = dir.resolve("P-state.safetensors"), uState = dir.resolve("U-state.safetensors");
        writeTensors(pState, Tensor.of("state/phi/w", 1));
        writeTensors(uState, Tensor.of("state/phi/w", new float[1], 1, 1));
        assertRejected("param 'state/phi/w'", o, cat(base, "--params", pState.toString(), "--updates", uState.toString()));

        // Dtypes other than F32, BF16 and F16, in either file; a 16-bit one sized as F32.
        Path p64 = foreign("w", "F64", "[2]", 16);
        assertRejected("tensor 'w' has dtype F64; nag4j reads F32, BF16 and F16", o, cat(base, "--params", p64.toString(), "--updates", u.toString()));
        Path u16 = foreign("w", "BF16", "[4,2]", 32);
        assertRejected("tensor 'w': data_offsets [0,32] hold 32 bytes but BF16 shape [4,2] needs 16", o,
                cat(base, "--params", p.toString(), "--updates", u16.toString()));

        // Corrupt files: truncated, garbage, empty params.
        Path uCut = dir.resolve("U-cut.safetensors");
        byte[] full = Files.readAllBytes(u);
        Files.write(uCut, Arrays.copyOf(full, full.length - 3));
        assertRejected("tensor 'b'", o, cat(base, "--params", p.toString(), "--updates", uCut.toString()));
        Path garbage = dir.resolve("garbage.safetensors");
        Files.writeString(garbage, "this is not a safetensors file at all");
        assertRejected("garbage.safetensors", o, cat(base, "--params", garbage.toString(), "--updates", u.toString()));
        Path empty = dir.resolve("empty.safetensors");
        writeTensors(empty);
        assertRejected("holds no tensors", o, cat(base, "--params", empty.toString(), "--updates", u.toString()));
        assertRejected("is a directory", dir.resolve("never.safetensors"),
                "replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u.toString(), "--out", dir.toString());
        Path nowhere = dir.resolve("no/such/dir/O.safetensors");
        assertRejected("does not exist", nowhere,
                "replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u.toString(), "--out", nowhere.toString());
    }

    /** Replaying 4 steps, then resuming from that checkpoint with the next 3, gives the bytes of replaying all 7 at once. */
    @Test
    void resumeFromACheckpointContinuesBitForBit() throws IOException {
        java.util.Random rnd = new java.util.Random(17);
        float[] w = new float[15], b = new float[4];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        float[][] uw = new float[7][15], ub = new float[7][4];
        for (int s = 0; s < 7; s++) {
            for (int i = 0; i < 15; i++) uw[s][i] = (float) rnd.nextGaussian();
            for (int i = 0; i < 4; i++) ub[s][i] = (float) rnd.nextGaussian();
        }
        Path p = dir.resolve("P.safetensors");
        writeTensors(p, Tensor.of("w", w, 3, 5), Tensor.of("b", b, 4));
        Path all = dir.resolve("U7.safetensors"), first = dir.resolve("U4.safetensors"), rest = dir.resolve("U3.safetensors");
        for (int[] range : new int[][] {{0, 7}, {0, 4}, {4, 7}}) {
            int n = range[1] - range[0];
            float[] fw = new float[n * 15], fb = new float[n * 4];
            for (int s = 0; s < n; s++) {
                System.arraycopy(uw[range[0] + s], 0, fw, s * 15, 15);
                System.arraycopy(ub[range[0] + s], 0, fb, s * 4, 4);
            }
            writeTensors(n == 7 ? all : n == 4 ? first : rest, Tensor.of("w", fw, n, 3, 5), Tensor.of("b", fb, n, 4));
        }
        for (String backend : List.of("cpu", "reference")) {
            Path whole = dir.resolve(backend + "-whole.safetensors"), half = dir.resolve(backend + "-half.safetensors"), resumed = dir.resolve(backend + "-resumed.safetensors");
            String[] adam = {"replay", "--optimizer", "adam", "--hp", "eta=0.01", "--backend", backend};
            assertEquals(0, nag4j(cat(adam, "--params", p.toString(), "--updates", all.toString(), "--out", whole.toString())).code());
            assertEquals(0, nag4j(cat(adam, "--params", p.toString(), "--updates", first.toString(), "--out", half.toString())).code());
            // The checkpoint's hyperparameters (eta=0.01) are used: no --hp needed to resume.
            Result r = nag4j("replay", "--optimizer", "adam", "--backend", backend, "--resume", half.toString(), "--updates", rest.toString(), "--out", resumed.toString());
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(resumed), backend + ": 4 + 3 steps == 7 steps");
        }
        Path o = dir.resolve("never.safetensors");
        assertRejected("either --params FILE or --resume CKPT", o, "replay", "--optimizer", "adam", "--updates", rest.toString(), "--out", o.toString());
        assertRejected("either --params FILE or --resume CKPT", o, "replay", "--optimizer", "adam", "--params", p.toString(), "--resume",
                dir.resolve("cpu-half.safetensors").toString(), "--updates", rest.toString(), "--out", o.toString());
        assertRejected("nag", o, "replay", "--optimizer", "nag", "--resume", dir.resolve("cpu-half.safetensors").toString(), "--updates", rest.toString(), "--out", o.toString());
    }

    @Test
    void badOptionsAreRefusedWithExit2() throws IOException {
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("never.safetensors");
        writeValid(p, u);
        String[] files = {"--params", p.toString(), "--updates", u.toString(), "--out", o.toString()};
        assertRejected("unknown optimizer 'lamb'", o, cat(new String[] {"replay", "--optimizer", "lamb"}, files));
        String[] nag = cat(new String[] {"replay", "--optimizer", "nag"}, files);
        assertRejected("unknown hyperparameter 'beta'", o, cat(nag, "--hp", "beta=0.5"));
        assertRejected("--hp 'eta' is not NAME=VALUE", o, cat(nag, "--hp", "eta"));
        assertRejected("--hp '=0.1' is not NAME=VALUE", o, cat(nag, "--hp", "=0.1"));
        assertRejected("hyperparameter 'eta' must be finite, got Infinity", o, cat(nag, "--hp", "eta=Infinity"));
        assertRejected("hyperparameter 'mu' must be finite, got NaN", o, cat(nag, "--hp", "mu=NaN"));
        assertRejected("hyperparameter 'eta' = 1e39 overflows float32 (the largest finite value is 3.4028235E38)", o, cat(nag, "--hp", "eta=1e39"));
        assertRejected("hyperparameter 'mu' = -0x1p200 overflows float32", o, cat(nag, "--hp", "mu=-0x1p200"));
        assertRejected("hyperparameter 'eta': 'fast' is not a number", o, cat(nag, "--hp", "eta=fast"));
        assertRejected("hyperparameter 'eta' has no value", o, cat(nag, "--hp", "eta="));
        assertRejected("--hp eta is given more than once", o, cat(nag, "--hp", "eta=0.1", "--hp", "eta=0.2"));
        assertRejected("unknown backend 'quantum'", o, cat(nag, "--backend", "quantum"));
        // picocli usage errors: one line too, exit 2.
        assertRejected("--out", o, "replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u.toString());
        assertRejected("--bogus", o, cat(nag, "--bogus"));
        assertRejected("frobnicate", o, "frobnicate");
    }

    @Test
    void anOutputThatIsAnInputIsRefusedAndTheInputKept() throws IOException {
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors");
        writeValid(p, u);
        byte[] pBytes = Files.readAllBytes(p), uBytes = Files.readAllBytes(u);
        Files.createDirectory(dir.resolve("sub"));
        Path link = dir.resolve("link.safetensors");
        Files.createSymbolicLink(link, u);
        for (String[] c : List.of(new String[] {p.toString(), "is the --params file"},
                new String[] {dir.resolve("./sub/../P.safetensors").toString(), "is the --params file"},
                new String[] {u.toString(), "is the --updates file"},
                new String[] {link.toString(), "is the --updates file"})) {
            Result r = nag4j("replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u.toString(), "--out", c[0]);
            assertEquals(2, r.code(), c[0] + ": " + r.err());
            assertTrue(r.err().strip().startsWith("nag4j: --out ") && r.err().contains(c[1]) && r.err().strip().lines().count() == 1, r.err());
            assertArrayEquals(pBytes, Files.readAllBytes(p), "params file must stay as it was");
            assertArrayEquals(uBytes, Files.readAllBytes(u), "updates file must stay as it was");
        }
    }

    @Test
    void badInputLeavesAnExistingOutputFileAsItWas() throws IOException {
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("O.safetensors");
        writeValid(p, u);
        Files.writeString(o, "precious");
        Result r = nag4j("replay", "--optimizer", "nag", "--hp", "eta=1e39", "--params", p.toString(), "--updates", u.toString(),
                "--out", o.toString());
        assertEquals(2, r.code(), r.err());
        Path uSteps = dir.resolve("U-steps.safetensors");
        writeTensors(uSteps, Tensor.of("w", new float[8], 4, 2), Tensor.of("b", new float[9], 3, 3));
        r = nag4j("replay", "--optimizer", "nag", "--params", p.toString(), "--updates", uSteps.toString(), "--out", o.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("precious", Files.readString(o));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "temporary files left");
        }
    }

    @Test
    void aDirectoryGivenAsAnInputIsNamedAsSuch() throws IOException {
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("never.safetensors");
        writeValid(p, u);
        Path sub = Files.createDirectory(dir.resolve("adir"));
        assertRejected("params file " + sub + " is a directory", o,
                "replay", "--optimizer", "nag", "--params", sub.toString(), "--updates", u.toString(), "--out", o.toString());
        assertRejected("updates file " + sub + " is a directory", o,
                "replay", "--optimizer", "nag", "--params", p.toString(), "--updates", sub.toString(), "--out", o.toString());
    }

    @Test
    void aDeviceNumberThatIsNotThereIsBadInput() throws IOException {
        ReplayBackendsAgreeTest.openClOrSkip();
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("never.safetensors");
        writeValid(p, u);
        assertRejected("backend 'opencl:97': no such device", o, "replay", "--optimizer", "nag", "--params", p.toString(),
                "--updates", u.toString(), "--out", o.toString(), "--backend", "opencl:97");
    }

    @Test
    void anUnavailableDriverIsExit1InOneLineWithoutInternalError() throws IOException {
        try {
            Drivers.get("cuda").devices();
            Assumptions.abort("CUDA is available here");
        } catch (DeviceUnavailableException | IllegalArgumentException expected) {
            // no CUDA driver on this machine (or none registered): the case under test
        }
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("never.safetensors");
        writeValid(p, u);
        Result r = nag4j("replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u.toString(), "--out", o.toString(),
                "--backend", "cuda");
        assertEquals(1, r.code(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), r.err());
        assertTrue(line.startsWith("nag4j: backend 'cuda'") && !line.contains("internal error"), line);
        assertFalse(Files.exists(o));
    }

    @Test
    void helpAndVersionExitZero() {
        Result r = nag4j("replay", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--updates"), r.out());
        assertEquals(0, nag4j("--version").code());
    }

    static String[] cat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
