package io.nag4j.bench.cli;

import java.util.List;

/** Lets tests in other packages use {@link ReplayBackendsAgreeTest}'s OpenCL rule (required in CI, skipped softly elsewhere). */
public final class ReplayBackendsAgreeTestAccess {
    private ReplayBackendsAgreeTestAccess() {}

    public static void openClOrSkipSoft(List<String> backends) { ReplayBackendsAgreeTest.openClOrSkipSoft(backends); }

    /** Why OpenCL cannot be used here, or null (fails instead when NAG4J_REQUIRE_OPENCL=1). */
    public static String openClMissing() { return ReplayBackendsAgreeTest.openClMissing(); }
}
