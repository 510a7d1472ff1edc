package io.nag4j.bench.cli;

import io.nag4j.bench.cpu.CpuBenchCommand;
import io.nag4j.bench.device.DeviceBenchCommand;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.NotBitExactException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * The {@code nag4j} command. Exit codes: 0 success, 2 bad input or usage (one line on stderr),
 * 1 an internal, I/O or device failure (an unavailable driver, a device that cannot be bit-exact for
 * the rule in EXACT mode, or a task the device cannot build or run, naming the device, is the
 * environment: exit 1, one line).
 * Stack traces only with {@code NAG4J_DEBUG=1}.
 */
@Command(name = "nag4j", mixinStandardHelpOptions = true, version = "nag4j 0.1.0",
        description = "Optimizer updates on GPUs from the JVM, bit-exact to a CPU reference.",
        subcommands = {CommandLine.HelpCommand.class, ReplayCommand.class, DevicesCommand.class, KernelsCommand.class,
                CpuBenchCommand.class, DeviceBenchCommand.class, AgreeCommand.class,
                io.nag4j.bench.chart.ChartCommand.class, io.nag4j.bench.report.BenchCommand.class,
                io.nag4j.bench.train.TrainCommand.class, io.nag4j.bench.train.DjlCompareCommand.class, io.nag4j.bench.train.AccelerationCommand.class,
                io.nag4j.bench.hardening.LifetimeCommand.class, io.nag4j.bench.hardening.SoakCommand.class,
                io.nag4j.bench.hardening.FuzzCommand.class})
public final class Main {
    /** Exit code for bad input or usage. */
    public static final int BAD_INPUT = 2;
    /** Exit code for an internal, I/O or device failure. */
    public static final int FAILURE = 1;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return configure(new CommandLine(new Main())).execute(args);
    }

    /** Runs the command line with its output and errors sent to these writers; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        try {
            return configure(cl).execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static CommandLine configure(CommandLine cl) {
        // Usage errors: one line, not a usage dump.
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("nag4j: " + oneLine(ex.getMessage()) + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
            debug(ex, cmd.getErr());
            return BAD_INPUT;
        });
        // Failures while running: bad input (IllegalArgumentException) is 2, anything else 1.
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            boolean badInput = ex instanceof IllegalArgumentException;
            String msg = ex.getMessage() == null ? ex.getClass().getName() : ex.getMessage();
            // The environment (I/O, a driver or device that is not there) is exit 1, but no internal error.
            if (badInput || ex instanceof IOException || ex instanceof DeviceUnavailableException || ex instanceof NotBitExactException
                    || ex instanceof io.nag4j.gpu.plan.TaskFailedException) {
                cmd.getErr().println("nag4j: " + oneLine(msg));
            } else {
                cmd.getErr().println("nag4j: internal error: " + ex.getClass().getSimpleName() + ": " + oneLine(msg)
                        + (debugging() ? "" : " (NAG4J_DEBUG=1 shows the stack trace)"));
            }
            debug(ex, cmd.getErr());
            return badInput ? BAD_INPUT : FAILURE;
        });
        return cl;
    }

    private static boolean debugging() {
        String d = System.getenv("NAG4J_DEBUG");
        return d != null && !d.isEmpty() && !d.equals("0");
    }

    private static void debug(Throwable ex, PrintWriter err) {
        if (debugging()) {
            ex.printStackTrace(err);
            err.flush();
        }
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
