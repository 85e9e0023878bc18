package dev.switchboard.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine and JVM a run measured on, recorded with every result. */
final class Machine {

  private Machine() {
  }

  static JsonObject describe() {
    Runtime rt = Runtime.getRuntime();
    JsonObject m = new JsonObject()
        .put("cores", rt.availableProcessors())
        .put("cpu", cpuModel())
        .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
            + System.getProperty("os.arch"))
        .put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
        .put("benchJvmArgs", new JsonArray(ManagementFactory.getRuntimeMXBean().getInputArguments()))
        .put("benchMaxHeapBytes", rt.maxMemory());
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      m.put("memoryBytes", os.getTotalMemorySize());
    }
    return m;
  }

  /** The maximum number of files this process may open (the idle scenario needs one per socket). */
  static long maxOpenFiles() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
      return os.getMaxFileDescriptorCount();
    }
    return Long.MAX_VALUE;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: the field stays unknown
    }
    return "unknown";
  }
}
