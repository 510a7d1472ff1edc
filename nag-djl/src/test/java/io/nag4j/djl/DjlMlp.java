package io.nag4j.djl;

import ai.djl.Model;
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
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;

import java.util.SplittableRandom;

/** A small DJL MLP on the PyTorch engine, seeded weights and data, trained one batch a step. */
final class DjlMlp implements AutoCloseable {
    static final int FEATURES = 6, HIDDEN = 10, CLASSES = 3, BATCH = 8;
    final Model model;
    final SequentialBlock block;
    final Trainer trainer;
    private final long seed;

    DjlMlp(Optimizer optimizer, long seed) {
        this.seed = seed;
        block = new SequentialBlock().add(Linear.builder().setUnits(HIDDEN).build()).add(Activation::tanh)
                .add(Linear.builder().setUnits(CLASSES).build());
        model = Model.newInstance("mlp", "PyTorch");
        model.setBlock(block);
        trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(optimizer));
        trainer.initialize(new Shape(BATCH, FEATURES));
        SplittableRandom r = new SplittableRandom(seed);
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            float[] v = new float[Math.toIntExact(a.size())];
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.5);
            a.set(v);
        }
    }

    /** Forward, backward, then {@code beforeStep} (to capture gradients), then {@code Trainer.step()}; the loss. */
    float step(long t, Runnable beforeStep) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + t);
        float[] x = new float[BATCH * FEATURES];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        long[] y = new long[BATCH];
        for (int i = 0; i < BATCH; i++) y[i] = r.nextInt(CLASSES);
        try (NDManager m = trainer.getManager().newSubManager()) {
            float loss;
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList pred = trainer.forward(new NDList(m.create(x, new Shape(BATCH, FEATURES))));
                NDArray l = trainer.getLoss().evaluate(new NDList(m.create(y)), pred);
                gc.backward(l);
                loss = l.getFloat();
            }
            beforeStep.run();
            trainer.step();
            return loss;
        }
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
