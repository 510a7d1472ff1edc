package io.nag4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.bound.HostBoundOptimizer;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * nag4j's reference optimizer stepped beside a DJL training loop on the very gradients DJL
 * computed: {@link #captureGradients()} before {@code Trainer.step()}, then {@link #stepAndCompare}
 * steps the reference with them and compares the block's new weights with the reference's, bit
 * for bit. This is how nag4j checks a {@link Nag4jOptimizer} (on any backend) inside DJL: any
 * difference is the optimizer's, not the gradients'. Params are named as
 * {@code block.getParameters()} names them (trainable ones only).
 */
public final class ReferenceShadow implements AutoCloseable {
    /** Where the block's weights first differ from the reference's. */
    public record Difference(String tensor, long index, int referenceBits, int djlBits) {
        public String describe(String djl) {
            return String.format(Locale.ROOT, "'%s' element %d: reference %08x (%s), %s %08x (%s)", tensor, index, referenceBits,
                    Float.intBitsToFloat(referenceBits), djl, djlBits, Float.intBitsToFloat(djlBits));
        }
    }

    private final List<Pair<String, Parameter>> trainable;
    private final BoundOptimizer reference;
    private final ParamSet grads, weights;

    /** The reference for {@code rule}, bound to the block's current weights and {@code initial} state (null: fresh). */
    public ReferenceShadow(Block block, Rule rule, Hyperparams hp, OptState initial, Mode mode) {
        trainable = Nag4jOptimizer.trainable(block);
        List<Tensor> w = new ArrayList<>();
        for (Pair<String, Parameter> e : trainable) {
            NDArray a = e.getValue().getArray();
            w.add(Tensor.of(e.getKey(), a.toFloatArray(), NdArrays.shapeOf(a.getShape())));
        }
        weights = new ParamSet(w);
        grads = weights.zerosLike("");
        reference = HostBoundOptimizer.reference(rule, hp, weights, initial, mode);
    }

    /** Copies the block's gradients (call before {@code Trainer.step()}, which zeroes them). */
    public void captureGradients() {
        for (int i = 0; i < trainable.size(); i++) {
            try (NDArray g = trainable.get(i).getValue().getArray().getGradient()) {
                grads.get(i).copyFrom(g.toFloatArray());
            }
        }
    }

    /** Steps the reference with the captured gradients and {@code hp}; the first weight that differs from the block's, or null. */
    public Difference stepAndCompare(Hyperparams hp) {
        reference.step(grads, hp);
        return compare();
    }

    /** The first weight of the block that differs from the reference's, or null. */
    public Difference compare() {
        reference.readParamsInto(weights);
        for (int i = 0; i < trainable.size(); i++) {
            float[] djl = trainable.get(i).getValue().getArray().toFloatArray();
            Tensor ref = weights.get(i);
            for (int k = 0; k < djl.length; k++) {
                int r = Float.floatToRawIntBits(ref.get(k)), d = Float.floatToRawIntBits(djl[k]);
                if (r != d) return new Difference(ref.name(), k, r, d);
            }
        }
        return null;
    }

    /** The reference's params now, named as the block's; the caller closes them. */
    public ParamSet referenceParams() { return reference.readParams(); }

    /** The reference's state now; the caller closes it. */
    public OptState referenceState() { return reference.readState(); }

    @Override
    public void close() {
        reference.close();
        grads.close();
        weights.close();
    }
}
