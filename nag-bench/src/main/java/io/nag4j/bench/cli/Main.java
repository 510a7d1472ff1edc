package io.nag4j.bench.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code nag4j} command. Exit codes: 0 success, 2 bad input or usage (one line on stderr),
 * 1 an internal or device failure.
 */
@Command(name = "nag4j", mixinStandardHelpOptions = true, version = "nag4j 0.1.0",
        description = "Optimizer updates on GPUs from the JVM, bit-exact to a CPU reference.",
        subcommands = {CommandLine.HelpCommand.class, io.nag4j.bench.cpu.CpuBenchCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExitCodeExceptionMapper(e -> e instanceof IllegalArgumentException ? 2 : 1);
        return cl.execute(args);
    }
}
