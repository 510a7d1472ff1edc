package io.nag4j.gpu.ptx;

import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernels every PTX test covers: each built-in rule (from the registry), random programs
 * over every op, and the same generator's programs traced as user rules ({@link RandomPrograms}).
 */
final class PtxKernels {
    static final long SEED = 0x5eed_0001L;
    static final int RANDOM_COUNT = 60;
    static final int DIFFERENTIAL_COUNT = 60;

    private PtxKernels() {}

    static List<Kernel> all() {
        List<Kernel> out = new ArrayList<>();
        out.addAll(Rules.kernels());
        for (int i = 0; i < RANDOM_COUNT; i++) out.add(RandomPrograms.program(SEED + i));
        for (int i = 0; i < DIFFERENTIAL_COUNT; i++) out.add(RandomPrograms.rule(SEED + 1000 + i).kernel());
        return out;
    }
}
