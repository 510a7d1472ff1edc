package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernels every PTX test covers: each built-in rule (from the registry), random kernels that
 * cover every op, and the random rules of the CPU backend's differential tests ({@code RandomRules}).
 */
final class PtxKernels {
    static final long SEED = 0x5eed_0001L;
    static final int RANDOM_COUNT = 60;
    static final int DIFFERENTIAL_COUNT = 60;

    private PtxKernels() {}

    static List<Kernel> all() {
        List<Kernel> out = new ArrayList<>();
        out.addAll(Rules.kernels());
        out.addAll(RandomKernels.generate(RANDOM_COUNT, SEED));
        for (int i = 0; i < DIFFERENTIAL_COUNT; i++) out.add(io.nag4j.core.ir.RandomRules.rule(SEED + i).kernel());
        return out;
    }
}
