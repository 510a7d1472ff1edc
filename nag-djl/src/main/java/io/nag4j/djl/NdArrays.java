package io.nag4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reading and writing DJL arrays' floats with as few copies as the engine allows. DJL's
 * {@code toByteBuffer(true)} hands out a direct buffer: on the PyTorch engine, for a contiguous
 * CPU tensor, a view of the tensor's own memory (no copy); otherwise a fresh copy. Which one is
 * found out without naming an engine: a view has the same address on every call, a copy a new one.
 */
final class NdArrays {
    private NdArrays() {}

    /** The array's floats as a segment: a view of its memory where the engine gives one, else a copy. */
    static MemorySegment segment(NDArray a) {
        ByteBuffer b = a.toByteBuffer(true);
        if (!b.isDirect()) throw new IllegalStateException("the engine gave a heap buffer for a direct request");
        return MemorySegment.ofBuffer(b);
    }

    /** Whether {@link #segment} is a view of {@code a}'s memory (two calls, one address), so writes to it update {@code a}. */
    static boolean isView(NDArray a) {
        if (!a.getDevice().isGpu() && a.size() > 0) {
            MemorySegment first = segment(a), second = segment(a);
            return first.address() == second.address() && first.address() != 0;
        }
        return false;
    }

    /** Refuses an array nag4j cannot step: not float32, or a gradient whose shape is not its weight's. */
    static long[] checkedShape(String parameterId, NDArray weight, NDArray grad) {
        if (weight == null || grad == null) {
            throw new IllegalArgumentException("parameter '" + parameterId + "': " + (weight == null ? "weight" : "gradient") + " is null");
        }
        if (weight.getDataType() != DataType.FLOAT32 || grad.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("parameter '" + parameterId + "': nag4j steps float32, the weight is " + weight.getDataType()
                    + " and the gradient " + grad.getDataType());
        }
        Shape ws = weight.getShape(), gs = grad.getShape();
        if (!ws.equals(gs)) {
            throw new IllegalArgumentException("parameter '" + parameterId + "': gradient shape " + gs + " is not the weight's " + ws);
        }
        return shapeOf(ws);
    }

    static long[] shapeOf(Shape s) {
        long[] dims = s.getShape();
        return Arrays.copyOf(dims, dims.length);
    }

    /** Writes {@code src} (the array's size in floats) into {@code a}, through the engine (one copy). */
    static void write(NDArray a, MemorySegment src) {
        // A fresh buffer each time: DJL's PyTorch engine may keep the buffer it is given as the array's data.
        ByteBuffer b = ByteBuffer.allocateDirect((int) src.byteSize()).order(java.nio.ByteOrder.nativeOrder());
        MemorySegment.ofBuffer(b).copyFrom(src);
        a.set(b);
    }
}
