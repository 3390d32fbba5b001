package io.jtensor.bindings.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jtensor.bindings.BoundLibrary;
import io.jtensor.bindings.LibrarySpec;
import io.jtensor.bindings.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** NVML (libnvidia-ml.so.1): device names, memory, utilisation and temperature, for reports and monitoring. */
public final class Nvml {
    public static final LibrarySpec SPEC = LibrarySpec.driver("NVML", "libnvidia-ml.so.1");
    private static final String[] NAMES = {
        "NVML_SUCCESS", "NVML_ERROR_UNINITIALIZED", "NVML_ERROR_INVALID_ARGUMENT", "NVML_ERROR_NOT_SUPPORTED",
        "NVML_ERROR_NO_PERMISSION", "NVML_ERROR_ALREADY_INITIALIZED", "NVML_ERROR_NOT_FOUND", "NVML_ERROR_INSUFFICIENT_SIZE",
        "NVML_ERROR_INSUFFICIENT_POWER", "NVML_ERROR_DRIVER_NOT_LOADED", "NVML_ERROR_TIMEOUT", "NVML_ERROR_IRQ_ISSUE",
        "NVML_ERROR_LIBRARY_NOT_FOUND", "NVML_ERROR_FUNCTION_NOT_FOUND", "NVML_ERROR_CORRUPTED_INFOROM",
        "NVML_ERROR_GPU_IS_LOST", "NVML_ERROR_RESET_REQUIRED", "NVML_ERROR_OPERATING_SYSTEM",
        "NVML_ERROR_LIB_RM_VERSION_MISMATCH", "NVML_ERROR_IN_USE", "NVML_ERROR_MEMORY", "NVML_ERROR_NO_DATA",
        "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED", "NVML_ERROR_INSUFFICIENT_RESOURCES", "NVML_ERROR_FREQ_NOT_SUPPORTED",
        "NVML_ERROR_ARGUMENT_VERSION_MISMATCH", "NVML_ERROR_DEPRECATED", "NVML_ERROR_NOT_READY", "NVML_ERROR_GPU_NOT_FOUND",
        "NVML_ERROR_INVALID_STATE"};
    public static final int TEMPERATURE_GPU = 0;

    private static final BoundLibrary LIB = new BoundLibrary("NVML", SPEC);

    private Nvml() {}

    /** {total, free, used} bytes. */
    public record MemoryInfo(long total, long free, long used) {}

    /** Percent of time the GPU and its memory were busy over the last sample period. */
    public record Utilization(int gpu, int memory) {}

    public static String errorName(int code) {
        if (code == 999) return "NVML_ERROR_UNKNOWN";
        return code >= 0 && code < NAMES.length ? NAMES[code] : "NVML_ERROR_UNRECOGNIZED(" + code + ")";
    }

    public static void load() { LIB.load(H::touch); }

    public static boolean isLoadable() { return LIB.isLoadable(H::touch); }

    private static void ready() {
        if (!LIB.isReady()) load();
    }

    private static final class H {
        static final SymbolLookup L = LIB.lookup();
        static final MethodHandle init = f("nvmlInit_v2");
        static final MethodHandle shutdown = f("nvmlShutdown");
        static final MethodHandle count = f("nvmlDeviceGetCount_v2", ADDRESS);
        static final MethodHandle handleByIndex = f("nvmlDeviceGetHandleByIndex_v2", JAVA_INT, ADDRESS);
        static final MethodHandle name = f("nvmlDeviceGetName", JAVA_LONG, ADDRESS, JAVA_INT);
        static final MethodHandle memoryInfo = f("nvmlDeviceGetMemoryInfo", JAVA_LONG, ADDRESS);
        static final MethodHandle utilization = f("nvmlDeviceGetUtilizationRates", JAVA_LONG, ADDRESS);
        static final MethodHandle temperature = f("nvmlDeviceGetTemperature", JAVA_LONG, JAVA_INT, ADDRESS);
        static final MethodHandle driverVersion = f("nvmlSystemGetDriverVersion", ADDRESS, JAVA_INT);

        static void touch() {}

        private static MethodHandle f(String symbol, MemoryLayout... args) {
            return Native.downcall(L, "NVML", symbol, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    private static void check(int r, String call) {
        if (r != 0) throw new NvmlException(r, call);
    }

    public static void init() {
        ready();
        int r;
        try { r = (int) H.init.invokeExact(); } catch (Throwable t) { throw Native.rethrow("nvmlInit", t); }
        check(r, "nvmlInit");
    }

    public static void shutdown() {
        ready();
        int r;
        try { r = (int) H.shutdown.invokeExact(); } catch (Throwable t) { throw Native.rethrow("nvmlShutdown", t); }
        check(r, "nvmlShutdown");
    }

    public static int deviceCount() {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.count.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("nvmlDeviceGetCount", t); }
        check(r, "nvmlDeviceGetCount");
        return out.get(JAVA_INT, 0);
    }

    /** The nvmlDevice_t for a device index (NVML's order, which is PCI order like CUDA's default). */
    public static long deviceHandle(int index) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.handleByIndex.invokeExact(index, out); } catch (Throwable t) { throw Native.rethrow("nvmlDeviceGetHandleByIndex", t); }
        check(r, "nvmlDeviceGetHandleByIndex");
        return out.get(JAVA_LONG, 0);
    }

    public static String name(long device) {
        ready();
        MemorySegment out = Native.scratch(128);
        int r;
        try { r = (int) H.name.invokeExact(device, out, 128); } catch (Throwable t) { throw Native.rethrow("nvmlDeviceGetName", t); }
        check(r, "nvmlDeviceGetName");
        return out.getString(0);
    }

    public static MemoryInfo memoryInfo(long device) {
        ready();
        MemorySegment out = Native.scratch(24);
        int r;
        try { r = (int) H.memoryInfo.invokeExact(device, out); } catch (Throwable t) { throw Native.rethrow("nvmlDeviceGetMemoryInfo", t); }
        check(r, "nvmlDeviceGetMemoryInfo");
        return new MemoryInfo(out.get(JAVA_LONG, 0), out.get(JAVA_LONG, 8), out.get(JAVA_LONG, 16));
    }

    public static Utilization utilization(long device) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.utilization.invokeExact(device, out); } catch (Throwable t) { throw Native.rethrow("nvmlDeviceGetUtilizationRates", t); }
        check(r, "nvmlDeviceGetUtilizationRates");
        return new Utilization(out.get(JAVA_INT, 0), out.get(JAVA_INT, 4));
    }

    /** GPU core temperature in degrees Celsius. */
    public static int temperature(long device) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.temperature.invokeExact(device, TEMPERATURE_GPU, out); } catch (Throwable t) { throw Native.rethrow("nvmlDeviceGetTemperature", t); }
        check(r, "nvmlDeviceGetTemperature");
        return out.get(JAVA_INT, 0);
    }

    public static String driverVersion() {
        ready();
        MemorySegment out = Native.scratch(96);
        int r;
        try { r = (int) H.driverVersion.invokeExact(out, 96); } catch (Throwable t) { throw Native.rethrow("nvmlSystemGetDriverVersion", t); }
        check(r, "nvmlSystemGetDriverVersion");
        return out.getString(0);
    }
}
