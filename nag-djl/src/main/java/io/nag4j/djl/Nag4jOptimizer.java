package io.nag4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.util.Pair;
import io.nag4j.core.bound.HostBoundOptimizer;
import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.StepChecks;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A DJL {@link Optimizer} that runs any nag4j rule (built-in or user-written), bit-exact to
 * nag4j's reference, on any nag4j backend ({@code cpu}, {@code reference}, {@code opencl:0},
 * {@code cuda:0}, {@code tornado}...):
 *
 * <pre>{@code
 * Optimizer nag = Nag4jOptimizer.builder().optRule("nag").optHyperparam("eta", 0.01f).optBackend("cpu").build();
 * TrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(nag);
 * }</pre>
 *
 * <p><b>Launches.</b> DJL's {@code Trainer.step()} calls {@link #update} once per parameter,
 * closes each gradient as soon as the call returns, and says nothing when the step ends. With
 * {@link Launches#PER_STEP} (the default) the first step runs one launch per parameter and learns
 * DJL's order of parameters; from the second step on each gradient is copied into nag4j's staging
 * memory as it arrives and the whole step is one launch when the last parameter of that order
 * arrives, so the weights are new when {@code Trainer.step()} returns. If the parameters a step
 * updates change (a parameter frozen or added), the optimizer goes on with one launch per
 * parameter; if a step ends short of the learned order (its last parameter frozen), the next
 * update throws, naming what was missing, with nothing of that step applied.
 * {@link Launches#PER_PARAMETER} launches once per {@link #update}, copying nothing on the host backends.
 *
 * <p><b>Copies.</b> Weights and gradients are read through DJL's direct buffers: on the PyTorch
 * engine, for contiguous CPU tensors, views of the tensors' own memory. On {@code cpu} and
 * {@code reference} the rule runs in place on DJL's weights (no copy of them ever); a device
 * backend keeps params and state resident and writes the new weights straight into DJL's
 * memory after each launch. {@link #counters()} counts every copy.
 *
 * <p>DJL's {@code optClipGrad}, {@code optWeightDecays} and {@code setRescaleGrad} are refused: the
 * rule is applied exactly as written (AdamW's weight decay is {@code adamw}'s {@code weight_decay}).
 * The learning-rate {@link ParameterTracker} (a {@code Tracker} too), if given, sets the rule's learning rate ({@code lr} or
 * {@code eta}) for step {@code t} (1 for the first step, counting on after {@link #load}) to
 * {@code tracker.getNewValue(t)}. Optimizer state per parameter id is saved and loaded as a
 * nag4j checkpoint with {@link #save} and {@link #load}.
 */
public final class Nag4jOptimizer extends Optimizer implements AutoCloseable {
    /** How the parameters of one {@code Trainer.step()} are launched. */
    public enum Launches {
        /** One launch for all parameters of a step (after the first step, which learns them). */
        PER_STEP,
        /** One launch for each parameter, as DJL calls {@link #update}. */
        PER_PARAMETER
    }

    /**
     * What the optimizer did so far: {@code update} calls, kernel launches, and bytes copied:
     * gradients into nag4j's staging ({@code PER_STEP}), weights between DJL and nag4j (a device's
     * new weights written into DJL's memory, or both ways for an array the engine gives no view
     * of), and by the engine itself to hand out an array it has no view of.
     */
    public record Counters(long updates, long launches, long gradientBytesCopied, long weightBytesCopied, long engineBytesCopied) {}

    private static final System.Logger LOG = System.getLogger(Nag4jOptimizer.class.getName());

    private final Rule rule;
    private final Hyperparams hp;
    private final ParameterTracker learningRate;
    private final String learningRateName;
    private final String backend;
    private final Mode mode;
    private final Launches launches;

    private final Map<String, Param> params = new HashMap<>();
    private final Map<String, StateGroup> groups = new HashMap<>(); // id -> the group stepping it
    private final Map<String, OptState> loaded = new HashMap<>();   // id -> its state from load(), until first stepped
    private final List<String> order = new ArrayList<>();           // ids in DJL's calling order (first step)
    private StateGroup merged;   // PER_STEP from the second step on
    private ParamSet mergedWeights, mergedGrads;
    private int position;        // the next index of order a PER_STEP step expects
    private boolean perParameter; // PER_STEP fell back (the parameters of a step changed)
    private long updateCalls, launchCount, gradientBytes, weightBytes, engineBytes;
    private Hyperparams lastHp;
    private boolean closed;

    private Nag4jOptimizer(Builder b) {
        super(b);
        if (rescaleGrad != 1f || clipGrad >= 0f || getWeightDecay() != 0f) {
            throw new IllegalArgumentException("Nag4jOptimizer applies the rule '" + b.rule.name() + "' exactly as written: DJL's "
                    + (rescaleGrad != 1f ? "setRescaleGrad(" + rescaleGrad + ")" : clipGrad >= 0f ? "optClipGrad(" + clipGrad + ")" : "optWeightDecays(" + getWeightDecay() + ")")
                    + " is not applied; scale the loss, or use a rule with weight decay (adamw's weight_decay)");
        }
        this.rule = b.rule;
        this.hp = b.hyperparams();
        this.learningRate = b.learningRate;
        this.learningRateName = learningRateName(rule, hp, learningRate);
        this.backend = b.backend;
        this.mode = b.mode;
        this.launches = b.launches;
        Backends.resolve(backend); // an unknown backend or a missing device fails here, not at the first step
    }

    /** A builder in DJL's style; defaults: rule {@code nag} with its defaults, backend {@code cpu}, EXACT, {@link Launches#PER_STEP}. */
    public static Builder builder() { return new Builder(); }

    public Rule rule() { return rule; }

    /** The hyperparameters the rule runs with (the tracker, if any, replacing the learning rate each step). */
    public Hyperparams hyperparams() { return hp; }

    /** The backend spec, as given to {@link Builder#optBackend}. */
    public String backend() { return backend; }

    public Mode mode() { return mode; }

    public Launches launches() { return launches; }

    /** Whether a {@code PER_STEP} optimizer now launches per parameter (the parameters of a step changed). */
    public synchronized boolean fellBackToPerParameter() { return perParameter; }

    public synchronized Counters counters() {
        return new Counters(updateCalls, launchCount, gradientBytes, weightBytes, engineBytes);
    }

    /** The hyperparameters of the last launch (the tracker's learning rate), or {@link #hyperparams()} before any. */
    public synchronized Hyperparams lastStepHyperparams() { return lastHp != null ? lastHp : hp; }

    @Override
    public synchronized void update(String parameterId, NDArray weight, NDArray grad) {
        checkOpen();
        Objects.requireNonNull(parameterId, "parameterId");
        long[] shape = NdArrays.checkedShape(parameterId, weight, grad);
        Param p = params.get(parameterId);
        if (p == null) {
            p = new Param(parameterId, shape);
        } else if (!Arrays.equals(p.shape, shape)) {
            throw new IllegalArgumentException("parameter '" + parameterId + "' had shape " + Arrays.toString(p.shape) + ", now " + Arrays.toString(shape));
        }
        if (p.device == null) p.device = weight.getDevice();
        else if (!p.device.equals(weight.getDevice())) {
            throw new IllegalArgumentException("parameter '" + parameterId + "' is on " + weight.getDevice() + " and on " + p.device
                    + ": DJL's multi-device training (one update per device) is not supported; train on one device");
        }
        updateCalls++;
        p.attach(weight);
        params.putIfAbsent(parameterId, p);
        if (merged == null && launches == Launches.PER_STEP && !perParameter && !order.isEmpty()
                && parameterId.equals(order.getFirst()) && groups.containsKey(parameterId)) {
            mergeGroups(); // the first parameter again: the first step is over and its order known
        }
        if (merged != null) stage(p, grad);
        else stepAlone(p, grad);
        p.zeroGradient();
    }

    /** One launch for this parameter alone (the first step, or {@code PER_PARAMETER}). */
    private void stepAlone(Param p, NDArray grad) {
        StateGroup g = groups.get(p.id);
        if (g == null) {
            OptState initial = loaded.remove(p.id);
            try (initial) {
                g = StateGroup.open(backend, rule, hp, mode, p.single(), initial);
            }
            groups.put(p.id, g);
            if (launches == Launches.PER_STEP && !perParameter) order.add(p.id);
        }
        MemorySegment gs = NdArrays.segment(grad);
        if (!p.gradIsView(grad)) engineBytes += gs.byteSize();
        try (Tensor gt = Tensor.wrap(p.id, gs, p.shape)) {
            launch(g, List.of(p), p.single(), ParamSet.of(gt));
        }
    }

    /** {@code PER_STEP}: copies the gradient into staging; the last parameter of the step launches them all. */
    private void stage(Param p, NDArray grad) {
        if (position < order.size() && order.get(position).equals(p.id)) {
            MemorySegment gs = NdArrays.segment(grad);
            if (!p.gradIsView(grad)) engineBytes += gs.byteSize();
            p.staged.segment().copyFrom(gs);
            gradientBytes += gs.byteSize();
            if (++position == order.size()) {
                position = 0;
                List<Param> all = order.stream().map(params::get).toList();
                launch(merged, all, mergedWeights(all), mergedGrads);
            }
            return;
        }
        int at = order.indexOf(p.id);
        List<Param> pending = order.subList(0, position).stream().map(params::get).toList();
        List<String> missing = List.copyOf(order.subList(position, order.size()));
        position = 0;
        splitGroups();
        if (at >= 0 && at < pending.size()) {
            throw new IllegalStateException("Nag4jOptimizer: parameter '" + p.id + "' came again before the previous Trainer.step() updated "
                    + missing + " (frozen?): none of that step's updates was applied, weights and state are as they were before it. "
                    + "It now launches once per parameter; build it with optLaunches(PER_PARAMETER) when the parameters of a step change");
        }
        // The parameters of this step changed (one added, or a new order): finish it parameter by parameter.
        LOG.log(System.Logger.Level.INFO, "Nag4jOptimizer: parameter ''{0}'' is not the one expected next; launching once per parameter from here on", p.id);
        for (Param q : pending) launch(groups.get(q.id), List.of(q), q.single(), ParamSet.of(q.staged));
        stepAlone(p, grad);
    }

    private void launch(StateGroup g, List<Param> ps, ParamSet weights, ParamSet grads) {
        Hyperparams at = hyperparamsAt(g.step() + 1, ps.getFirst().id);
        for (Param p : ps) p.beforeStep();
        g.step(weights, grads, at);
        for (Param p : ps) p.afterStep(g instanceof StateGroup.Bound);
        launchCount++;
        lastHp = at;
    }

    private Hyperparams hyperparamsAt(long t, String id) {
        if (learningRate == null) return hp;
        float lr = learningRate.getNewValue(id, (int) Math.min(Integer.MAX_VALUE, t));
        Hyperparams h = hp.with(learningRateName, lr);
        StepChecks.checkHyperparams(rule, hp, h); // a tracker's NaN or negative rate names itself before anything changes
        return h;
    }

    private ParamSet mergedWeights(List<Param> all) {
        boolean same = mergedWeights != null;
        for (int i = 0; same && i < all.size(); i++) same = mergedWeights.get(i) == all.get(i).weight;
        if (!same) mergedWeights = new ParamSet(all.stream().map(p -> p.weight).toList());
        return mergedWeights;
    }

    private void mergeGroups() {
        long step = groups.get(order.getFirst()).step();
        for (String id : order) if (groups.get(id).step() != step) { perParameter = true; return; }
        List<OptState> parts = new ArrayList<>();
        try {
            for (String id : order) parts.add(groups.get(id).readState());
            try (OptState all = StateGroup.merge(rule.name(), parts)) {
                List<Param> ps = order.stream().map(params::get).toList();
                merged = StateGroup.open(backend, rule, hp, mode, mergedWeights(ps), all);
            }
        } finally {
            parts.forEach(OptState::close);
        }
        for (String id : order) groups.remove(id).close();
        mergedGrads = new ParamSet(order.stream().map(id -> params.get(id).staging()).toList());
        position = 0;
    }

    private void splitGroups() {
        perParameter = true;
        if (merged == null) return;
        try (OptState all = merged.readState()) {
            for (String id : order) {
                try (OptState one = StateGroup.slice(all, id)) {
                    groups.put(id, StateGroup.open(backend, rule, hp, mode, params.get(id).single(), one));
                }
            }
        }
        merged.close();
        merged = null;
        mergedWeights = null;
    }

    /**
     * Saves the weights and optimizer state of {@code block}'s trainable parameters as a nag4j
     * checkpoint (tensors named as {@code block.getParameters()} names them), atomically. Every
     * trainable parameter must have been stepped as often as the others (or none yet).
     */
    public synchronized void save(Path file, Block block) throws IOException {
        checkOpen();
        if (position != 0) throw new IllegalStateException("Nag4jOptimizer: a Trainer.step() is half done (" + position + " of " + order.size() + " parameters); save after it");
        List<Pair<String, Parameter>> trainable = trainable(block);
        List<Tensor> weights = new ArrayList<>();
        Map<String, List<Tensor>> slots = new LinkedHashMap<>();
        for (String s : rule.slots()) slots.put(s, new ArrayList<>());
        Map<StateGroup, OptState> read = new IdentityHashMap<>();
        List<OptState> fresh = new ArrayList<>();
        Long step = null;
        try {
            for (Pair<String, Parameter> e : trainable) {
                String name = e.getKey(), id = e.getValue().getId();
                NDArray w = e.getValue().getArray();
                Tensor wt = Tensor.of(name, w.toFloatArray(), NdArrays.shapeOf(w.getShape()));
                weights.add(wt);
                StateGroup g = merged != null && merged.ids.contains(id) ? merged : groups.get(id);
                OptState s;
                long at;
                if (g != null) {
                    s = read.computeIfAbsent(g, StateGroup::readState);
                    at = s.step();
                } else {
                    s = loaded.get(id);
                    if (s == null) { // never stepped: the state the rule's init gives
                        s = HostBoundOptimizer.hostOptimizer("reference", rule, hp, mode).init(ParamSet.of(wt));
                        fresh.add(s);
                    }
                    at = s.step();
                }
                if (step != null && step != at) {
                    throw new IllegalStateException("Nag4jOptimizer: parameter '" + name + "' is at step " + at + ", others at " + step + "; a checkpoint holds one step");
                }
                step = at;
                for (String slot : rule.slots()) {
                    ParamSet set = s.slot(slot);
                    Tensor t = set.find(id) != null ? set.get(id) : set.get(name);
                    slots.get(slot).add(t.copy(name));
                }
            }
            Map<String, ParamSet> sets = new LinkedHashMap<>();
            slots.forEach((k, v) -> sets.put(k, new ParamSet(v)));
            try (ParamSet ps = new ParamSet(weights); OptState state = new OptState(rule.name(), sets, step == null ? 0 : step)) {
                weights = List.of();
                Checkpoint.save(file, ps, state, hp);
            }
        } finally {
            weights.forEach(Tensor::close);
            read.values().forEach(OptState::close);
            fresh.forEach(OptState::close);
        }
    }

    /**
     * Loads a checkpoint saved by {@link #save} (or by any nag4j binding of the same rule, its
     * params named as {@code block.getParameters()} names them): sets the block's weights to its
     * params and makes its state the optimizer's, the next step counting on from the checkpoint's.
     * Everything is checked (rule, names, shapes) before anything changes.
     */
    public synchronized void load(Path file, Block block) throws IOException {
        checkOpen();
        List<Pair<String, Parameter>> trainable = trainable(block);
        try (Checkpoint ck = Checkpoint.load(file, rule)) {
            List<String> names = new ArrayList<>();
            for (Pair<String, Parameter> e : trainable) {
                String name = e.getKey();
                names.add(name);
                Tensor t = ck.params().find(name);
                if (t == null) throw new IllegalArgumentException(file + " has no param '" + name + "' (it has " + ck.params().names() + ")");
                long[] shape = NdArrays.shapeOf(e.getValue().getArray().getShape());
                if (!Arrays.equals(t.shape(), shape)) {
                    throw new IllegalArgumentException(file + ": param '" + name + "' has shape " + Arrays.toString(t.shape()) + ", the block's " + Arrays.toString(shape));
                }
            }
            for (String n : ck.params().names()) {
                if (!names.contains(n)) throw new IllegalArgumentException(file + " has param '" + n + "', which is not a trainable parameter of the block " + names);
            }
            reset();
            for (Pair<String, Parameter> e : trainable) {
                String name = e.getKey(), id = e.getValue().getId();
                NdArrays.write(e.getValue().getArray(), ck.params().get(name).segment());
                Map<String, ParamSet> sets = new LinkedHashMap<>();
                ck.state().slots().forEach((slot, set) -> sets.put(slot, ParamSet.of(set.get(name).copy(id))));
                loaded.put(id, new OptState(rule.name(), sets, ck.state().step()));
            }
        }
    }

    /**
     * The block's trainable parameters (those DJL computes gradients for), named as
     * {@code block.getParameters()} names them, in its order: what {@link #save}, {@link #load} and
     * {@link ReferenceShadow} hold. Refuses a parameter not initialized yet, naming it.
     */
    public static List<Pair<String, Parameter>> trainable(Block block) {
        Objects.requireNonNull(block, "block");
        List<Pair<String, Parameter>> l = new ArrayList<>();
        for (Pair<String, Parameter> e : block.getParameters()) {
            if (e.getValue().requiresGradient()) {
                if (!e.getValue().isInitialized()) throw new IllegalStateException("parameter '" + e.getKey() + "' of the block is not initialized");
                l.add(e);
            }
        }
        return l;
    }

    /** Forgets every parameter and its state (the next step starts afresh, or from what {@link #load} left). */
    private void reset() {
        if (merged != null) merged.close();
        merged = null;
        groups.values().forEach(StateGroup::close);
        groups.clear();
        loaded.values().forEach(OptState::close);
        loaded.clear();
        params.values().forEach(Param::close);
        params.clear();
        order.clear();
        mergedWeights = mergedGrads = null;
        position = 0;
        perParameter = false;
    }

    /** Frees the optimizer's state (on the host or a device); a later {@link #update} throws. */
    @Override
    public synchronized void close() {
        if (closed) return;
        reset();
        closed = true;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("Nag4jOptimizer (" + rule.name() + " on " + backend + ") is closed");
    }

    private static String learningRateName(Rule rule, Hyperparams hp, ParameterTracker tracker) {
        if (tracker == null) return null;
        for (String n : List.of("lr", "eta", "learning_rate")) if (hp.names().contains(n)) return n;
        throw new IllegalArgumentException("rule '" + rule.name() + "' has no learning rate (lr or eta) for the tracker; its hyperparameters are " + hp.names());
    }

    /** One DJL parameter as nag4j sees it: its weight (a view of DJL's memory where possible) and staging. */
    private final class Param implements AutoCloseable {
        final String id;
        final long[] shape;
        NDArray array;
        ai.djl.Device device;
        Tensor weight;          // a view of DJL's memory, or (no view) nag4j's copy
        boolean weightIsView;
        long address;
        ParamSet single;
        Tensor staged;          // PER_STEP: the gradient copied here
        Boolean gradView;       // learned from the first gradient
        Boolean weightGradView; // whether the weight's own gradient (zeroed after each update) is a view

        Param(String id, long[] shape) {
            this.id = id;
            this.shape = shape;
        }

        /** Points at DJL's current weight array (the same memory as last step, normally). */
        void attach(NDArray a) {
            if (a == array && (!weightIsView || NdArrays.segment(a).address() == address)) return;
            array = a;
            boolean view = NdArrays.isView(a);
            if (weight != null && !weightIsView) weight.close();
            if (view) {
                MemorySegment s = NdArrays.segment(a);
                address = s.address();
                weight = Tensor.wrap(id, s, shape);
            } else {
                weight = Tensor.zeros(id, shape);
                address = 0;
                weight.segment().copyFrom(NdArrays.segment(a));
                engineBytes += weight.byteSize();
                weightBytes += weight.byteSize();
            }
            weightIsView = view;
            single = ParamSet.of(weight);
        }

        ParamSet single() { return single; }

        Tensor staging() {
            if (staged == null) staged = Tensor.zeros(id, shape);
            return staged;
        }

        boolean gradIsView(NDArray grad) {
            if (gradView == null) gradView = NdArrays.isView(grad);
            return gradView;
        }

        /**
         * As DJL's own optimizers do after an update: the engine accumulates gradients until they
         * are zeroed. Whether the weight's gradient is a view is found out once, not every step.
         */
        void zeroGradient() {
            if (!array.hasGradient()) return;
            try (NDArray g = array.getGradient()) {
                if (weightGradView == null) weightGradView = NdArrays.isView(g);
                if (weightGradView) NdArrays.segment(g).fill((byte) 0);
                else g.set(new float[Math.toIntExact(g.size())]);
            }
        }

        /** Without a view, DJL's weight is copied in before each step (another part of DJL may have changed it). */
        void beforeStep() {
            if (weightIsView) return;
            weight.segment().copyFrom(NdArrays.segment(array));
            engineBytes += weight.byteSize();
            weightBytes += weight.byteSize();
        }

        void afterStep(boolean fromDevice) {
            if (weightIsView) {
                if (fromDevice) weightBytes += weight.byteSize(); // the device's new weights, read into DJL's memory
                return;
            }
            NdArrays.write(array, weight.segment());
            weightBytes += weight.byteSize();
        }

        @Override
        public void close() {
            if (weight != null && !weightIsView) weight.close();
            if (staged != null) staged.close();
        }
    }

    /** Builds a {@link Nag4jOptimizer}; every setter returns the builder, as DJL's do. */
    public static final class Builder extends OptimizerBuilder<Builder> {
        private Rule rule = Nag.INSTANCE;
        private Hyperparams base;
        private final Map<String, Float> overrides = new LinkedHashMap<>();
        private ParameterTracker learningRate;
        private String backend = "cpu";
        private Mode mode = Mode.EXACT;
        private Launches launches = Launches.PER_STEP;

        private Builder() {}

        /** A built-in rule by name: nag, sgd, adam, momentum, adamw, rmsprop, adagrad. */
        public Builder optRule(String name) { this.rule = Rules.byName(name); return this; }

        /** Any rule, a user-written one too. */
        public Builder optRule(Rule rule) { this.rule = Objects.requireNonNull(rule, "rule"); return this; }

        /** One hyperparameter, over the rule's defaults (or {@link #optHyperparams}). */
        public Builder optHyperparam(String name, float value) { overrides.put(Objects.requireNonNull(name, "name"), value); return this; }

        /** All hyperparameters at once (the rule's names). */
        public Builder optHyperparams(Hyperparams hp) { this.base = Objects.requireNonNull(hp, "hyperparams"); return this; }

        /** The learning rate per step (the rule's {@code lr} or {@code eta}), as DJL's optimizers take it. */
        public Builder optLearningRateTracker(ParameterTracker tracker) { this.learningRate = Objects.requireNonNull(tracker, "tracker"); return this; }

        /** Where the rule runs, as {@code --backend} names it: cpu (default), reference, opencl[:N], cuda[:N], tornado[:N]... */
        public Builder optBackend(String spec) { this.backend = Objects.requireNonNull(spec, "backend"); return this; }

        public Builder optMode(Mode mode) { this.mode = Objects.requireNonNull(mode, "mode"); return this; }

        public Builder optLaunches(Launches launches) { this.launches = Objects.requireNonNull(launches, "launches"); return this; }

        private Hyperparams hyperparams() {
            Hyperparams h = base != null ? base : rule.defaults();
            for (var e : overrides.entrySet()) {
                if (!h.names().contains(e.getKey())) {
                    throw new IllegalArgumentException("rule '" + rule.name() + "' has no hyperparameter '" + e.getKey() + "'; it has " + h.names());
                }
                h = h.with(e.getKey(), e.getValue());
            }
            StepChecks.checkHyperparams(rule, h);
            return h;
        }

        /** The optimizer; an unknown rule, hyperparameter or backend fails here. */
        public Nag4jOptimizer build() { return new Nag4jOptimizer(this); }

        @Override protected Builder self() { return this; }
    }
}
