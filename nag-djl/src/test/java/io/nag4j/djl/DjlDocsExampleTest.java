package io.nag4j.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.rule.Nag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/djl.md's three lines, run as written in a DJL loop, bit-exact to the reference; the page shows them verbatim. */
class DjlDocsExampleTest {
    static final String LINES = """
            Optimizer nag = Nag4jOptimizer.builder().optRule("nag").optHyperparam("eta", 0.01f).optBackend("cpu").build();
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(nag);
            Trainer trainer = model.newTrainer(config);   // then train as usual: EasyTrain.fit, or forward, backward, trainer.step()
            """;

    @Test
    void theThreeLinesTrainAndArePrintedOnThePage() throws Exception {
        String page = Files.readString(io.nag4j.core.golden.Golden.repoRoot().resolve("docs/djl.md"));
        for (String line : LINES.strip().split("\n")) assertTrue(page.contains(line.strip()), "docs/djl.md lacks: " + line);
        try (Model model = Model.newInstance("docs", "PyTorch")) {
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(3).build()));
            // --- the page's lines ---
            Optimizer nag = Nag4jOptimizer.builder().optRule("nag").optHyperparam("eta", 0.01f).optBackend("cpu").build();
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(nag);
            Trainer trainer = model.newTrainer(config);   // then train as usual: EasyTrain.fit, or forward, backward, trainer.step()
            // ---
            try (trainer; NDManager m = NDManager.newBaseManager("PyTorch")) {
                trainer.initialize(new Shape(4, 5));
                try (ReferenceShadow ref = new ReferenceShadow(model.getBlock(), Nag.INSTANCE, Nag.INSTANCE.defaults().with("eta", 0.01f), null, Mode.EXACT)) {
                    for (int t = 0; t < 5; t++) {
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList pred = trainer.forward(new NDList(m.randomNormal(new Shape(4, 5))));
                            gc.backward(trainer.getLoss().evaluate(new NDList(m.create(new long[] {0, 1, 2, 1})), pred));
                        }
                        ref.captureGradients();
                        trainer.step();
                        assertNull(ref.stepAndCompare(Nag.INSTANCE.defaults().with("eta", 0.01f)));
                    }
                }
            }
            ((Nag4jOptimizer) nag).close();
        }
    }
}
