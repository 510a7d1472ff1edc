package io.nag4j.gpu.plan;

/**
 * When a {@link TaskGraph} moves a buffer between host and device (TornadoVM's
 * {@code DataTransferMode}).
 */
public enum TransferMode {
    /** Copied on the plan's first {@code execute()} only: data that then stays resident on the device. */
    FIRST_EXECUTION,
    /** Copied on every {@code execute()}: the per-step inputs (to the device) or outputs (to the host). */
    EVERY_EXECUTION,
    /** Never copied by {@code execute()}; read back only when asked, through {@link ExecutionResult}. Host-bound only. */
    UNDER_DEMAND
}
