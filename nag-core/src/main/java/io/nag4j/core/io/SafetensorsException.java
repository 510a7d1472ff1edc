package io.nag4j.core.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that is not a safetensors file nag4j can load (or a checkpoint whose contents do not
 * fit together). The message names the file and the problem: the tensor, field or value.
 */
public final class SafetensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
