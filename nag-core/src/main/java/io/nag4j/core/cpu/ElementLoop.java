package io.nag4j.core.cpu;

import java.lang.foreign.MemorySegment;

/**
 * One kernel compiled to JVM code: {@link JvmLowering} generates a hidden class implementing this
 * interface per kernel. {@link #run} loops over {@code count} elements starting at element
 * {@code from} of one group (one param's buffers, in kernel input order).
 */
interface ElementLoop {
    /**
     * Runs the kernel on elements {@code [from, from + count)}.
     *
     * @param segs    buffers; this group's inputs are {@code segs[base] .. segs[base + inputs - 1]}
     * @param base    index in {@code segs} of this group's first input (its param)
     * @param scalars the kernel's scalar arguments, in order
     * @param from    first element
     * @param count   number of elements, {@code >= 0}
     * @param scratch this thread's tile arrays, one per input, each {@link JvmLowering#TILE} long
     */
    void run(MemorySegment[] segs, int base, float[] scalars, long from, int count, float[][] scratch);
}
