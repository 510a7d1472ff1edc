package io.nag4j.core.golden;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed's golden NAG trajectories (cases A, B, C of {@code nag_seed_golden.json}) as plain
 * arrays, with what is known after each step. Any optimizer, on any backend, replays them:
 * run {@code updates[step-1]}, then {@link #check} the params and phi it holds.
 */
public final class NagGolden {
    /** What the golden file states after one step; null entries are not stated. */
    public record Expect(float[][] theta, float[][] phi, String[] thetaSha, String[] phiSha) {}

    /**
     * @param updates {@code updates[step][tensor]}, step 0 being the first step
     * @param expect  by step number (1-based)
     */
    public record Trajectory(String name, List<String> names, List<long[]> shapes, List<float[]> theta0,
                             float[][][] updates, TreeMap<Integer, Expect> expect) {
        public int steps() { return updates.length; }
    }

    private NagGolden() {}

    public static List<Trajectory> all() {
        JsonNode g = Golden.nagSeed();
        assertEquals("3c23d70a", g.get("eta_hex").asText());
        assertEquals("3f666666", g.get("mu_hex").asText());
        return List.of(caseA(g), caseB(g), caseC(g));
    }

    public static Trajectory caseB() { return caseB(Golden.nagSeed()); }

    static Trajectory caseA(JsonNode g) {
        JsonNode a = g.get("case_A_main_example");
        JsonNode init = a.get("init").get("theta");
        List<float[]> theta0 = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < init.size(); i++) {
            theta0.add(Golden.hex(init.get(i)));
            shapes.add(new long[] {init.get(i).size()});
            names.add("w" + i);
        }
        JsonNode strict = a.get("strict");
        float[][][] updates = new float[strict.size()][init.size()][];
        TreeMap<Integer, Expect> expect = new TreeMap<>();
        for (int s = 0; s < strict.size(); s++) {
            JsonNode st = strict.get(s);
            float[][] th = new float[init.size()][], ph = new float[init.size()][];
            for (int i = 0; i < init.size(); i++) {
                updates[s][i] = Golden.hex(a.get("updates").get(i));
                th[i] = Golden.hex(st.get("tensors").get(i).get("theta"));
                ph[i] = Golden.hex(st.get("tensors").get(i).get("phi"));
            }
            expect.put(st.get("step").asInt(), new Expect(th, ph, null, null));
        }
        return new Trajectory("A", names, shapes, theta0, updates, expect);
    }

    static Trajectory caseB(JsonNode g) {
        JsonNode b = g.get("case_B_random");
        JsonNode in = b.get("inputs");
        int nt = in.get("shapes").size();
        List<float[]> theta0 = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        float[][] allUpdates = new float[nt][];
        for (int i = 0; i < nt; i++) {
            shapes.add(Golden.shape(in.get("shapes").get(i)));
            theta0.add(Golden.b64le(in.get("theta0_b64le").get(i).asText()));
            allUpdates[i] = Golden.b64le(in.get("updates_b64le").get(i).asText());
            names.add("t" + i);
        }
        int steps = b.get("per_step_sha256").get("theta").get(0).size();
        float[][][] updates = new float[steps][nt][];
        for (int s = 0; s < steps; s++) {
            for (int i = 0; i < nt; i++) {
                int n = theta0.get(i).length;
                updates[s][i] = java.util.Arrays.copyOfRange(allUpdates[i], s * n, (s + 1) * n);
            }
        }
        TreeMap<Integer, Expect> expect = new TreeMap<>();
        for (int s = 1; s <= steps; s++) {
            float[][] th = new float[nt][], ph = new float[nt][];
            String[] ths = new String[nt], phs = new String[nt];
            for (int i = 0; i < nt; i++) {
                ths[i] = b.get("per_step_sha256").get("theta").get(i).get(s - 1).asText();
                phs[i] = b.get("per_step_sha256").get("phi").get(i).get(s - 1).asText();
                JsonNode small = b.get("per_step_small").get(Integer.toString(i));
                if (small != null) {
                    th[i] = Golden.hex(small.get("theta_hex").get(s - 1));
                    ph[i] = Golden.hex(small.get("phi_hex").get(s - 1));
                }
            }
            JsonNode cp = b.get("checkpoints").get(Integer.toString(s));
            if (cp == null && s == steps) cp = b.get("final");
            if (cp != null) {
                for (int i = 0; i < nt; i++) {
                    th[i] = Golden.hex(cp.get("theta_hex").get(i));
                    ph[i] = Golden.hex(cp.get("phi_hex").get(i));
                }
            }
            expect.put(s, new Expect(th, ph, ths, phs));
        }
        return new Trajectory("B", names, shapes, theta0, updates, expect);
    }

    static Trajectory caseC(JsonNode g) {
        JsonNode c = g.get("case_C_special");
        float[] theta0 = Golden.hex(c.get("theta0_hex"));
        JsonNode strict = c.get("variants").get("strict");
        float[][][] updates = new float[strict.size()][1][];
        TreeMap<Integer, Expect> expect = new TreeMap<>();
        for (int s = 0; s < strict.size(); s++) {
            updates[s][0] = Golden.hex(c.get("updates_hex").get(s));
            expect.put(s + 1, new Expect(new float[][] {Golden.hex(strict.get(s).get("theta_hex"))},
                    new float[][] {Golden.hex(strict.get(s).get("phi_hex"))}, null, null));
        }
        return new Trajectory("C", List.of("special"), List.of(new long[] {theta0.length}), List.of(theta0), updates, expect);
    }

    /** Checks what is known after {@code step}; messages name case, step, tensor and element. */
    public static void check(Trajectory tr, int step, List<float[]> theta, List<float[]> phi) {
        Expect e = tr.expect().get(step);
        if (e == null) return;
        for (int i = 0; i < theta.size(); i++) {
            String where = "case " + tr.name() + " step " + step + " tensor " + tr.names().get(i);
            if (e.theta()[i] != null) Bits.assertSame(e.theta()[i], theta.get(i), where + " theta");
            if (e.phi()[i] != null) Bits.assertSame(e.phi()[i], phi.get(i), where + " phi");
            if (e.thetaSha() != null) assertEquals(e.thetaSha()[i], sha256(theta.get(i)), where + " theta sha256");
            if (e.phiSha() != null) assertEquals(e.phiSha()[i], sha256(phi.get(i)), where + " phi sha256");
        }
        assertTrue(theta.size() == tr.names().size(), "tensor count");
    }

    /** SHA-256 of the little-endian float32 bytes, as the golden file's per-step hashes. */
    public static String sha256(float[] a) {
        ByteBuffer bb = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(a);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bb.array()));
        } catch (Exception ex) {
            throw new AssertionError(ex);
        }
    }
}
