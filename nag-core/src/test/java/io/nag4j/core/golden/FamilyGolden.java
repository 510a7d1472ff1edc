package io.nag4j.core.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The optimizer family's golden trajectories ({@code golden/family_golden.json} on the test
 * classpath, made by {@code gen_family_golden.py}, an independent numpy float32 implementation)
 * and a replayer that checks any {@link Optimizer} against them bit for bit (NaN by class).
 * Shared with other modules through nag-core's test-jar.
 */
public final class FamilyGolden {
    private FamilyGolden() {}

    /** One tensor of a case: its start value and one update per step (flattened, row-major). */
    public record TensorCase(String name, long[] shape, float[] theta0, float[][] updates) {}

    /** Expected param and slot values (per tensor) after {@code step}. */
    public record Expect(int step, List<float[]> param, Map<String, List<float[]>> slots) {}

    /** One trajectory: optimizer, hyperparameters as float bits, tensors, checkpoints. */
    public record Case(String optimizer, String name, Map<String, Float> hp, int steps, List<TensorCase> tensors,
                       List<Expect> expect) {
        /** The rule's defaults with every value of this case applied (names must match exactly). */
        public Hyperparams hyperparams(Rule rule) {
            Hyperparams h = rule.defaults();
            assertEquals(h.names(), List.copyOf(hp.keySet()), "hyperparameter names of " + this);
            for (var e : hp.entrySet()) h = h.with(e.getKey(), e.getValue());
            return h;
        }

        @Override
        public String toString() { return optimizer + "/" + name; }
    }

    private static JsonNode root;

    static synchronized JsonNode root() {
        if (root == null) {
            try (InputStream in = FamilyGolden.class.getResourceAsStream("/golden/family_golden.json")) {
                if (in == null) throw new IllegalStateException("golden/family_golden.json is missing from the test classpath");
                root = new ObjectMapper().readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return root;
    }

    /** The optimizers the file covers. */
    public static List<String> optimizers() {
        List<String> out = new ArrayList<>();
        root().get("optimizers").fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** Every case of one optimizer. */
    public static List<Case> cases(String optimizer) {
        JsonNode opt = root().get("optimizers").get(optimizer);
        if (opt == null) throw new IllegalArgumentException("no golden cases for '" + optimizer + "'");
        List<String> slotNames = new ArrayList<>();
        opt.get("slots").forEach(s -> slotNames.add(s.asText()));
        List<Case> out = new ArrayList<>();
        for (JsonNode c : opt.get("cases")) {
            Map<String, Float> hp = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = c.get("hp").fields(); it.hasNext(); ) {
                var e = it.next();
                hp.put(e.getKey(), Golden.hex(e.getValue().asText()));
            }
            int steps = c.get("steps").asInt();
            List<TensorCase> tensors = new ArrayList<>();
            for (JsonNode t : c.get("tensors")) {
                long[] shape = Golden.shape(t.get("shape"));
                float[] theta0 = Golden.b64le(t.get("theta0_b64le").asText());
                float[] all = Golden.b64le(t.get("updates_b64le").asText());
                int n = theta0.length;
                if (all.length != (long) n * steps) throw new IllegalStateException("updates of " + t.get("name") + " have " + all.length + " values");
                float[][] updates = new float[steps][];
                for (int s = 0; s < steps; s++) updates[s] = java.util.Arrays.copyOfRange(all, s * n, (s + 1) * n);
                tensors.add(new TensorCase(t.get("name").asText(), shape, theta0, updates));
            }
            List<Expect> expect = new ArrayList<>();
            for (JsonNode e : c.get("expect")) {
                List<float[]> param = new ArrayList<>();
                e.get("param").forEach(b -> param.add(Golden.b64le(b.asText())));
                Map<String, List<float[]>> slots = new LinkedHashMap<>();
                for (String s : slotNames) {
                    List<float[]> vs = new ArrayList<>();
                    e.get("slots").get(s).forEach(b -> vs.add(Golden.b64le(b.asText())));
                    slots.put(s, vs);
                }
                expect.add(new Expect(e.get("step").asInt(), param, slots));
            }
            out.add(new Case(optimizer, c.get("name").asText(), hp, steps, tensors, expect));
        }
        return out;
    }

    /**
     * Replays {@code c} through {@code opt} (made with {@link Case#hyperparams}) from a fresh
     * state, checking params and every slot at each checkpoint, bit for bit.
     */
    public static void replay(Optimizer opt, Case c) {
        List<Tensor> ps = new ArrayList<>();
        for (TensorCase t : c.tensors()) ps.add(Tensor.of(t.name(), t.theta0(), t.shape()));
        try (ParamSet params = new ParamSet(ps); ParamSet updates = params.zerosLike(""); OptState state = opt.init(params)) {
            Iterator<Expect> next = c.expect().iterator();
            Expect e = next.hasNext() ? next.next() : null;
            for (int s = 1; s <= c.steps(); s++) {
                for (int i = 0; i < params.size(); i++) updates.get(i).copyFrom(c.tensors().get(i).updates()[s - 1]);
                opt.step(state, params, updates);
                if (e != null && e.step() == s) {
                    for (int i = 0; i < params.size(); i++) {
                        String where = c + " step " + s + " tensor '" + params.get(i).name() + "'";
                        Bits.assertSame(e.param().get(i), params.get(i).toArray(), where + " param");
                        for (var slot : e.slots().entrySet()) {
                            Bits.assertSame(slot.getValue().get(i), state.slot(slot.getKey()).get(i).toArray(), where + " slot " + slot.getKey());
                        }
                    }
                    e = next.hasNext() ? next.next() : null;
                }
            }
            assertNull(e, c + ": checkpoint never reached");
            assertEquals(c.steps(), state.step());
        }
    }
}
