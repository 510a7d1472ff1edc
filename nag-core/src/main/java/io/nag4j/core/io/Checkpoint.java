package io.nag4j.core.io;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.MasterWeights;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.SequencedMap;

/**
 * A ParamSet with its optimizer state and hyperparameters, saved as one safetensors file.
 *
 * <p>Tensors: each param under its own name, in order; then, slot by slot, each param's state
 * tensor as {@code state/<slot>/<param>}. Metadata (all strings): {@code format} =
 * {@value #FORMAT}, {@code optimizer}, {@code step} (decimal), {@code slots} (the slot names,
 * comma-separated, so a missing slot is noticed) and {@code hp.<name>} for each hyperparameter,
 * written with {@link Float#toString(float)}, which reads back to the same float32.
 *
 * <p>Saving is atomic; loading checks that the pieces fit (every state tensor belongs to a
 * param and has its shape, every slot is complete, the step and hyperparameters parse) and
 * throws {@link SafetensorsException} naming what does not. The round trip is bitwise.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String FORMAT = "nag4j-checkpoint/1";
    public static final String STATE_PREFIX = "state/";
    public static final String HP_PREFIX = "hp.";

    private final ParamSet params;
    private final OptState state;
    private final Hyperparams hyperparams;
    private final ParamSet master;
    private final Map<String, String> dtypes;

    private Checkpoint(ParamSet params, OptState state, Hyperparams hyperparams, ParamSet master, Map<String, String> dtypes) {
        this.params = params;
        this.state = state;
        this.hyperparams = hyperparams;
        this.master = master;
        this.dtypes = Map.copyOf(dtypes);
    }

    /**
     * The float32 master weights of the 16-bit params (mixed precision, {@code state/master/<name>}
     * listed in metadata {@code master}), named as those params, in param order; empty if none,
     * or when the rule loaded with is a {@code MasterWeights} (they are its state's {@code master} slot then).
     */
    public ParamSet master() { return master; }

    /** The stored dtype ({@code BF16}, {@code F16}) of each param not stored as F32, by name. */
    public Map<String, String> dtypes() { return dtypes; }

    /** The params, in saved order; owned by this checkpoint. */
    public ParamSet params() { return params; }

    /** The optimizer state; its slots hold tensors named as the params, in param order. */
    public OptState state() { return state; }

    public Hyperparams hyperparams() { return hyperparams; }

    /** The state tensor name of {@code param} in {@code slot}. */
    public static String stateName(String slot, String param) {
        return STATE_PREFIX + slot + "/" + param;
    }

    /** Saves {@code params}, {@code state} and {@code hp} to {@code path}, atomically. */
    public static void save(Path path, ParamSet params, OptState state, Hyperparams hp) throws IOException {
        save(path, params, state, hp, Map.of(), null);
    }

    /**
     * As {@link #save(Path, ParamSet, OptState, Hyperparams)} for mixed precision: the params
     * {@code dtypes} names are stored as {@code BF16} or {@code F16} (their values are), and
     * {@code master} (their float32 master weights, named as those params) as
     * {@code state/master/<name>} in F32; metadata {@code master} lists them.
     */
    public static void save(Path path, ParamSet params, OptState state, Hyperparams hp, Map<String, String> dtypes, ParamSet master) throws IOException {
        Objects.requireNonNull(path, "path");
        if (params == null) throw new IllegalArgumentException("params to save are null");
        if (state == null) throw new IllegalArgumentException("optimizer state to save is null");
        if (hp == null) throw new IllegalArgumentException("hyperparameters to save are null");
        if (state.optimizer() == null || state.optimizer().isEmpty()) {
            throw new IllegalArgumentException("optimizer state to save has no optimizer name");
        }
        params.checkCompatible(params, "params");
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Tensor p : params) {
            tensors.put(p.name(), p);
            if (p.name().startsWith(STATE_PREFIX)) {
                throw new IllegalArgumentException("param '" + p.name() + "' may not start with '" + STATE_PREFIX + "' in a checkpoint");
            }
        }
        for (String slot : state.slotNames()) {
            if (slot.isEmpty() || slot.contains("/") || slot.contains(",")) {
                throw new IllegalArgumentException("slot name '" + slot + "' must be non-empty without '/' or ','");
            }
            ParamSet s = state.slot(slot);
            params.checkCompatible(s, "state slot '" + slot + "'");
            if (!s.names().equals(params.names())) {
                throw new IllegalArgumentException("state slot '" + slot + "' has tensors " + s.names() + " but params are " + params.names());
            }
            for (int i = 0; i < params.size(); i++) tensors.put(stateName(slot, params.get(i).name()), s.get(i));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("optimizer", state.optimizer());
        meta.put("step", Long.toString(state.step()));
        meta.put("slots", String.join(",", state.slotNames()));
        hp.asMap().forEach((k, v) -> meta.put(HP_PREFIX + k, Float.toString(v)));
        if (master != null && master.size() > 0) {
            for (Tensor m : master) {
                Tensor p = params.find(m.name());
                if (p == null || !p.sameShape(m)) throw new IllegalArgumentException("master weights '" + m.name() + "' match no param of its shape");
                if (!dtypes.containsKey(m.name())) throw new IllegalArgumentException("param '" + m.name() + "' has master weights but no 16-bit dtype");
                tensors.put(stateName("master", m.name()), m);
            }
            meta.put("master", String.join(",", master.names()));
        }
        Safetensors.write(path, tensors, meta, dtypes);
    }

    /** Loads a checkpoint saved by {@link #save}, checking that its pieces fit together. */
    public static Checkpoint load(Path path) throws IOException {
        return load(path, null);
    }

    /**
     * Loads a checkpoint and, if {@code rule} is not null, also checks it was saved for that rule
     * (name, slots, hyperparameter names; values pass {@link Rule#validate}); slots and
     * hyperparameters are then in the rule's order. Everything is checked before any tensor is
     * allocated.
     */
    public static Checkpoint load(Path path, Rule rule) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(path)) {
            return assemble(path, r, rule);
        }
    }

    private static Checkpoint assemble(Path path, SafetensorsReader r, Rule rule) throws SafetensorsException {
        Map<String, String> meta = r.metadata();
        String format = meta.get("format");
        if (!FORMAT.equals(format)) {
            throw new SafetensorsException(path, "metadata 'format' is " + (format == null ? "missing" : "'" + format + "'")
                    + ", expected '" + FORMAT + "': not a nag4j checkpoint");
        }
        String optimizer = meta.get("optimizer");
        if (optimizer == null || optimizer.isEmpty()) throw new SafetensorsException(path, "metadata has no 'optimizer'");
        long step = parseStep(path, meta.get("step"));
        String slotsText = meta.get("slots");
        if (slotsText == null) throw new SafetensorsException(path, "metadata has no 'slots'");
        List<String> slots = slotsText.isEmpty() ? List.of() : List.of(slotsText.split(",", -1));
        if (new HashSet<>(slots).size() != slots.size() || slots.contains("")) {
            throw new SafetensorsException(path, "metadata 'slots' = '" + slotsText + "' has an empty or repeated slot name");
        }
        Hyperparams hp = parseHyperparams(path, meta);
        // Mixed precision: state/master/<p> for each param metadata 'master' lists, beside the rule's slots.
        String masterText = meta.get("master");
        Set<String> masterParams = masterText == null || masterText.isEmpty() ? Set.of() : new LinkedHashSet<>(List.of(masterText.split(",", -1)));
        boolean masterIsSlot = false;
        if (!masterParams.isEmpty() && slots.contains(MasterWeights.MASTER)) {
            throw new SafetensorsException(path, "metadata lists master weights and a slot named '" + MasterWeights.MASTER + "'");
        }
        if (rule instanceof MasterWeights && !masterParams.isEmpty()) {
            // The master weights are this rule's last slot.
            List<String> withMaster = new ArrayList<>(slots);
            withMaster.add(MasterWeights.MASTER);
            slots = withMaster;
            masterIsSlot = true;
        }
        if (rule != null) {
            if (!rule.name().equals(optimizer)) {
                throw new SafetensorsException(path, "checkpoint is for optimizer '" + optimizer + "', not '" + rule.name() + "'");
            }
            if (!new HashSet<>(slots).equals(new HashSet<>(rule.slots()))) {
                throw new SafetensorsException(path, "checkpoint has slots " + slots + " but " + rule.name() + " has " + rule.slots());
            }
            slots = rule.slots();
            try {
                rule.defaults().checkSameNames(hp, rule.name());
                Hyperparams ordered = rule.defaults();
                for (String n : ordered.names()) ordered = ordered.with(n, hp.get(n));
                rule.validate(ordered);
                hp = ordered;
            } catch (IllegalArgumentException e) {
                throw new SafetensorsException(path, "metadata hyperparameters: " + e.getMessage(), e);
            }
        }

        // Sort the entries into params and state by name, checking every state entry.
        List<Safetensors.Entry> params = new ArrayList<>();
        Map<String, Map<String, Safetensors.Entry>> state = new LinkedHashMap<>();
        for (String s : slots) state.put(s, new LinkedHashMap<>());
        Map<String, Safetensors.Entry> masterEntries = new LinkedHashMap<>();
        List<Safetensors.Entry> stateEntries = new ArrayList<>();
        for (Safetensors.Entry e : r.entries()) {
            if (e.name().startsWith(STATE_PREFIX)) stateEntries.add(e);
            else params.add(e);
        }
        Map<String, Safetensors.Entry> paramByName = new LinkedHashMap<>();
        for (Safetensors.Entry p : params) paramByName.put(p.name(), p);
        for (Safetensors.Entry t : stateEntries) {
            String rest = t.name().substring(STATE_PREFIX.length());
            int slash = rest.indexOf('/');
            if (slash <= 0 || slash == rest.length() - 1) {
                throw new SafetensorsException(path, "state tensor '" + t.name() + "' is not named state/<slot>/<param>");
            }
            String slot = rest.substring(0, slash), param = rest.substring(slash + 1);
            Map<String, Safetensors.Entry> s = state.get(slot);
            if (s == null && slot.equals(MasterWeights.MASTER) && !masterParams.isEmpty()) {
                if (!masterParams.contains(param)) throw new SafetensorsException(path, "state tensor '" + t.name() + "' is master weights metadata 'master' does not list");
                s = masterEntries;
            }
            if (s == null) throw new SafetensorsException(path, "state tensor '" + t.name() + "' is for slot '" + slot + "', not one of " + slots);
            Safetensors.Entry p = paramByName.get(param);
            if (p == null) throw new SafetensorsException(path, "state tensor '" + t.name() + "' has no param '" + param + "'");
            if (!Arrays.equals(p.shape(), t.shape())) {
                throw new SafetensorsException(path, "state tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                        + " but param '" + param + "' has " + Arrays.toString(p.shape()));
            }
            s.put(param, t);
        }
        for (String m : masterParams) {
            if (!masterEntries.containsKey(m) && !(masterIsSlot && state.get(MasterWeights.MASTER).containsKey(m))) {
                throw new SafetensorsException(path, "metadata 'master' lists '" + m + "' but there is no '" + stateName(MasterWeights.MASTER, m) + "'");
            }
        }
        if (masterIsSlot) state.get(MasterWeights.MASTER).putAll(masterEntries);
        for (String slot : slots) {
            for (Safetensors.Entry p : params) {
                if (!state.get(slot).containsKey(p.name())) {
                    throw new SafetensorsException(path, "slot '" + slot + "' has no tensor for param '" + p.name()
                            + "' (expected '" + stateName(slot, p.name()) + "')");
                }
            }
        }

        // Everything fits: load. On failure, close what was loaded.
        List<Tensor> owned = new ArrayList<>();
        try {
            List<Tensor> ps = new ArrayList<>();
            for (Safetensors.Entry p : params) {
                Tensor t = r.load(p.name());
                owned.add(t);
                ps.add(t);
            }
            Map<String, ParamSet> slotSets = new LinkedHashMap<>();
            for (String slot : slots) {
                List<Tensor> ts = new ArrayList<>();
                for (Safetensors.Entry p : params) {
                    Tensor t = r.load(state.get(slot).get(p.name()).name(), p.name());
                    owned.add(t);
                    ts.add(t);
                }
                slotSets.put(slot, new ParamSet(ts));
            }
            List<Tensor> ms = new ArrayList<>();
            Map<String, String> dtypes = new LinkedHashMap<>();
            for (Safetensors.Entry p : params) {
                if (!p.dtype().equals("F32")) dtypes.put(p.name(), p.dtype());
                if (masterIsSlot || !masterEntries.containsKey(p.name())) continue;
                Tensor t = r.load(masterEntries.get(p.name()).name(), p.name());
                owned.add(t);
                ms.add(t);
            }
            return new Checkpoint(new ParamSet(ps), new OptState(optimizer, slotSets, step), hp, new ParamSet(ms), dtypes);
        } catch (RuntimeException e) {
            owned.forEach(Tensor::close);
            throw e;
        }
    }

    private static long parseStep(Path path, String text) throws SafetensorsException {
        if (text == null) throw new SafetensorsException(path, "metadata has no 'step'");
        try {
            long step = Long.parseLong(text);
            if (step < 0) throw new NumberFormatException();
            return step;
        } catch (NumberFormatException e) {
            throw new SafetensorsException(path, "metadata 'step' is '" + text + "', not a non-negative decimal integer");
        }
    }

    private static Hyperparams parseHyperparams(Path path, Map<String, String> meta) throws SafetensorsException {
        Map<String, Float> hp = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : meta.entrySet()) {
            if (!e.getKey().startsWith(HP_PREFIX)) continue;
            String name = e.getKey().substring(HP_PREFIX.length());
            if (name.isEmpty()) throw new SafetensorsException(path, "metadata key '" + e.getKey() + "' names no hyperparameter");
            try {
                hp.put(name, Hyperparams.parse(name, e.getValue()));
            } catch (IllegalArgumentException ex) {
                throw new SafetensorsException(path, "metadata '" + e.getKey() + "': " + ex.getMessage(), ex);
            }
        }
        return Hyperparams.of(hp);
    }

    @Override
    public void close() {
        params.close();
        state.close();
        master.close();
    }
}
