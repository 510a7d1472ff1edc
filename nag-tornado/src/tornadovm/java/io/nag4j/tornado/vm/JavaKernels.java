package io.nag4j.tornado.vm;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.tornado.TornadoKernelRenderer;
import uk.ac.manchester.tornado.api.KernelContext;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java kernels {@link TornadoKernelRenderer} writes, compiled with the JDK's javac ({@code -g}:
 * TornadoVM compiles from bytecode) into the directory the property {@value #DIR_PROPERTY} names,
 * which must be on the class path: TornadoVM reads a kernel's class file back through the system
 * class loader (its annotation scan), so the class must be an ordinary class path class. The file
 * name carries the kernel's IR hash, mode and renderer version, so a file already there (another
 * process wrote it) is the same kernel and is used as it is. Classes load once per JVM.
 */
final class JavaKernels {
    /** The system property naming the kernel class directory (./nag4j sets it and puts the directory on the class path). */
    static final String DIR_PROPERTY = "nag4j.tornado.kernels";

    private JavaKernels() {}

    /** The loaded kernel class of {@code kernel} in {@code mode}. */
    static synchronized Class<?> load(Kernel kernel, Mode mode) {
        Path dir = kernelDir();
        String name = TornadoKernelRenderer.binaryName(kernel, mode);
        Path file = dir.resolve(name.replace('.', '/') + ".class");
        if (!Files.isRegularFile(file)) {
            byte[] bytes = compile(name, TornadoKernelRenderer.render(kernel, mode));
            try {
                Files.createDirectories(file.getParent());
                Path tmp = Files.createTempFile(file.getParent(), "k", ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new DeviceUnavailableException("cannot write the TornadoVM kernel class " + file + ": " + e.getMessage(), e);
            }
        }
        try {
            return Class.forName(name, true, ClassLoader.getSystemClassLoader());
        } catch (ClassNotFoundException e) {
            throw new DeviceUnavailableException("the kernel class " + file + " was written but the class path does not reach it: " + DIR_PROPERTY
                    + " must name a directory on the class path", e);
        }
    }

    static Path kernelDir() {
        String d = System.getProperty(DIR_PROPERTY);
        String how = "; TornadoVM reads kernel classes through the system class loader, so put a writable directory on the class path and name it with -D"
                + DIR_PROPERTY + "=DIR (./nag4j does)";
        if (d == null || d.isBlank()) throw new DeviceUnavailableException(DIR_PROPERTY + " is not set" + how);
        Path dir = Path.of(d).toAbsolutePath().normalize();
        boolean onPath = false;
        for (String e : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
            if (!e.isEmpty() && Path.of(e).toAbsolutePath().normalize().equals(dir)) onPath = true;
        }
        if (!onPath) throw new DeviceUnavailableException(DIR_PROPERTY + "=" + d + " is not on the class path" + how);
        return dir;
    }

    private static byte[] compile(String binaryName, String source) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new DeviceUnavailableException("the tornado backend compiles its Java kernel with javac: run on a JDK, not a JRE");
        String api;
        try {
            api = Path.of(KernelContext.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("cannot locate TornadoVM's tornado-api jar to compile against", e);
        }
        Map<String, ByteArrayOutputStream> classes = new HashMap<>();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        JavaFileObject unit = new SimpleJavaFileObject(URI.create("string:///" + binaryName.replace('.', '/') + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override public CharSequence getCharContent(boolean ignoreEncodingErrors) { return source; }
        };
        try (JavaFileManager files = new ForwardingJavaFileManager<>(javac.getStandardFileManager(diagnostics, null, null)) {
            @Override
            public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
                return new SimpleJavaFileObject(URI.create("mem:///" + className.replace('.', '/') + kind.extension), kind) {
                    @Override public OutputStream openOutputStream() { return classes.computeIfAbsent(className, c -> new ByteArrayOutputStream()); }
                };
            }
        }) {
            List<String> options = List.of("-g", "-proc:none", "-Xlint:none", "-classpath", api);
            boolean ok = javac.getTask(null, files, diagnostics, options, null, List.of(unit)).call();
            if (!ok) {
                StringBuilder sb = new StringBuilder("javac refused the generated TornadoVM kernel " + binaryName + ":");
                for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                    sb.append("\n  line ").append(d.getLineNumber()).append(": ").append(d.getMessage(null));
                }
                throw new IllegalStateException(sb.append("\n").append(source).toString());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ByteArrayOutputStream b = classes.get(binaryName);
        if (b == null || classes.size() != 1) throw new IllegalStateException("javac made " + classes.keySet() + " of " + binaryName);
        return b.toByteArray();
    }
}
