package io.nag4j.bench.train;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.djl.Nag4jOptimizer;
import io.nag4j.djl.ReferenceShadow;
import io.nag4j.gpu.device.DeviceUnavailableException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code nag4j train --gradients djl}: the model is a DJL {@link SequentialBlock} on the PyTorch
 * engine and the gradients come from DJL's autograd; {@link Nag4jOptimizer} steps it. One DJL run
 * per backend asked for, and always one on {@code reference}; in each run a {@link ReferenceShadow}
 * steps nag4j's reference on the very gradients DJL handed the optimizer and compares the weights
 * after every step, and every run's loss curve and final weights are compared with the reference
 * run's. Same initial weights (the host model's, by seed), data and schedule as {@code train}.
 */
final class DjlTraining implements AutoCloseable {
    /** One DJL training run: a model, its trainer and Nag4jOptimizer on one backend, and the shadow reference. */
    final class Run implements AutoCloseable {
        final String backend;
        final Model model;
        final SequentialBlock block;
        final Trainer trainer;
        final Nag4jOptimizer optimizer;
        final ReferenceShadow shadow;
        final List<Float> losses = new ArrayList<>();
        final List<Long> stepNanos = new ArrayList<>();

        Run(String backend, ParamSet init, Resume resume) throws IOException {
            this.backend = backend;
            block = newBlock(init);
            model = Model.newInstance("nag4j-train", "PyTorch");
            Tracker lr = t -> schedule.value(base.get(lrName), t); // the schedule's value for step t, as the host loop's
            optimizer = Nag4jOptimizer.builder().optRule(rule).optHyperparams(base).optLearningRateTracker(lr).optBackend(backend).optMode(Mode.EXACT).build();
            model.setBlock(block);
            trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(optimizer));
            trainer.initialize(new Shape(batch, data.features()));
            List<Pair<String, Parameter>> ps = Nag4jOptimizer.trainable(block);
            if (ps.size() != init.size()) throw new IllegalStateException("the DJL block has " + ps.size() + " parameters, the host model " + init.size());
            for (int i = 0; i < ps.size(); i++) ps.get(i).getValue().getArray().set(init.get(i).toArray()); // same layout: (out, in) weights, then bias
            OptState state = null;
            if (resume != null) {
                optimizer.load(resume.path(), block);
                state = resume.checkpoint().state();
            }
            shadow = new ReferenceShadow(block, rule, base, state, Mode.EXACT);
        }

        /** Forward and backward on batch {@code x, y}, the shadow's copy of the gradients, then {@code Trainer.step()}; the loss. */
        float step(float[] x, long[] y) {
            float loss;
            try (NDManager m = trainer.getManager().newSubManager(); GradientCollector gc = trainer.newGradientCollector()) {
                NDList pred = trainer.forward(new NDList(m.create(x, new Shape(y.length, data.features()))));
                NDArray l = trainer.getLoss().evaluate(new NDList(m.create(y)), pred);
                gc.backward(l);
                loss = l.getFloat();
            }
            shadow.captureGradients();
            long t0 = System.nanoTime();
            trainer.step();
            stepNanos.add(System.nanoTime() - t0);
            losses.add(loss);
            return loss;
        }

        List<float[]> weights() {
            List<float[]> w = new ArrayList<>();
            for (Pair<String, Parameter> p : Nag4jOptimizer.trainable(block)) w.add(p.getValue().getArray().toFloatArray());
            return w;
        }

        /** The median time of {@code Trainer.step()} (the optimizer's whole share of a training step), in microseconds. */
        double medianStepMicros() {
            List<Long> s = stepNanos.stream().sorted().toList();
            return s.isEmpty() ? 0 : s.get(s.size() / 2) / 1e3;
        }

        List<String> names() { return Nag4jOptimizer.trainable(block).stream().map(Pair::getKey).toList(); }

        @Override
        public void close() {
            shadow.close();
            trainer.close();
            model.close();
            optimizer.close();
        }
    }

    /** A checkpoint to resume from, loaded once (its state seeds each run's shadow). */
    record Resume(Path path, Checkpoint checkpoint) {}

    private final Rule rule;
    private final Hyperparams base;
    private final String lrName;
    private final Data data;
    private final Schedule schedule;
    private final int batch;
    final List<Run> runs = new ArrayList<>();

    DjlTraining(Rule rule, Hyperparams base, Data data, Schedule schedule, int batch) {
        this.rule = rule;
        this.base = base;
        this.lrName = base.names().getFirst();
        this.data = data;
        this.schedule = schedule;
        this.batch = batch;
    }

    /** DJL's PyTorch engine, or why it cannot start here (exit 1, not an internal error). */
    static String engineVersion() {
        try {
            return "PyTorch " + Engine.getEngine("PyTorch").getVersion();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new DeviceUnavailableException("DJL's PyTorch engine cannot start here: " + e.getMessage(), e);
        }
    }

    /**
     * The DJL twin of the host {@link io.nag4j.bench.train.Model} whose initial params are {@code init} (weight, bias per
     * layer, weights as (out, in) like DJL's Linear): softmax is one Linear layer, mlp two with tanh between.
     */
    private static SequentialBlock newBlock(ParamSet init) {
        SequentialBlock b = new SequentialBlock();
        for (int layer = 0; layer < init.size() / 2; layer++) {
            if (layer > 0) b.add(Activation::tanh);
            b.add(Linear.builder().setUnits(init.get(2 * layer).shape()[0]).build());
        }
        return b;
    }


    Run add(String backend, ParamSet init, Resume resume) throws IOException {
        Run r = new Run(backend, init, resume);
        runs.add(r);
        return r;
    }

    /** Batch {@code t} as DJL wants it: features row-major, labels as class indices. */
    static float[] features(Data.Batch b) {
        int f = b.x(0).length;
        float[] x = new float[b.size() * f];
        for (int i = 0; i < b.size(); i++) System.arraycopy(b.x(i), 0, x, i * f, f);
        return x;
    }

    static long[] labels(Data.Batch b) {
        long[] y = new long[b.size()];
        for (int i = 0; i < y.length; i++) y[i] = b.label(i);
        return y;
    }

    @Override
    public void close() {
        for (Run r : runs) r.close();
    }
}
