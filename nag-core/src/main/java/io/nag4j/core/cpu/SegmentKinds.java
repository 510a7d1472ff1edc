package io.nag4j.core.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads every kind of memory segment and arena scope the JDK has, and touches each once, before
 * the CPU backend's loops are compiled.
 *
 * <p>Why: C2 compiles a generated loop assuming the segment and scope classes loaded so far are
 * all there are. The first segment of a new kind anywhere in the process (an OpenCL call's
 * confined arena, a mapped safetensors file, a heap segment) breaks that assumption and
 * deoptimizes every loop at once; recompiling them takes about a second on two cores, during
 * which steps run as interpreted Vector API code, a hundred times slower. Loading the kinds
 * first costs microseconds.
 */
final class SegmentKinds {
    private SegmentKinds() {}

    /** Touches each kind once; returns how many (so the work cannot be dropped). */
    static int load() {
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED;
        List<MemorySegment> segs = new ArrayList<>();
        try (Arena confined = Arena.ofConfined(); Arena shared = Arena.ofShared()) {
            segs.add(confined.allocate(64));
            segs.add(shared.allocate(64));
            segs.add(Arena.ofAuto().allocate(64));
            segs.add(Arena.global().allocate(64));
            segs.add(MemorySegment.ofAddress(segs.get(1).address()).reinterpret(64));
            segs.add(MemorySegment.ofBuffer(ByteBuffer.allocateDirect(64)));
            segs.add(MemorySegment.ofArray(new byte[64]));
            segs.add(MemorySegment.ofArray(new short[32]));
            segs.add(MemorySegment.ofArray(new char[32]));
            segs.add(MemorySegment.ofArray(new int[16]));
            segs.add(MemorySegment.ofArray(new float[16]));
            segs.add(MemorySegment.ofArray(new long[8]));
            segs.add(MemorySegment.ofArray(new double[8]));
            Path tmp = null;
            try {
                tmp = Files.createTempFile("nag4j-segment-kinds", ".bin");
                Files.write(tmp, new byte[64]);
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE); Arena mapped = Arena.ofConfined()) {
                    touch(ch.map(FileChannel.MapMode.READ_WRITE, 0, 64, mapped), segs.get(1), f);
                }
            } catch (java.io.IOException | RuntimeException e) {
                // no writable temporary directory: the mapped kind is then loaded when first used
            } finally {
                if (tmp != null) {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (java.io.IOException ignored) {
                        // a leftover 64-byte temporary file
                    }
                }
            }
            for (MemorySegment s : segs) touch(s, segs.get(1), f);
        }
        return segs.size();
    }

    private static void touch(MemorySegment s, MemorySegment other, ValueLayout.OfFloat f) {
        s.set(f, 0, s.get(f, 4));
        MemorySegment.copy(s, 0, other, 0, 16);
        MemorySegment.copy(other, 0, s, 16, 16);
        s.asSlice(0, 16).fill((byte) 0);
    }
}
