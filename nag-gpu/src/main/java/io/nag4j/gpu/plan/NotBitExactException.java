package io.nag4j.gpu.plan;

/**
 * EXACT mode was asked of a device (or a target on it) that cannot give the rule's bits: the one
 * refusal {@link Exactness#require} makes, for every backend. The message names the rule, the
 * device and why. It is the environment's answer, not a bug: choose another device, or FAST mode.
 */
public class NotBitExactException extends TaskFailedException {
    public NotBitExactException(String task, String device, String message) {
        super(task, device, message, null);
    }
}
