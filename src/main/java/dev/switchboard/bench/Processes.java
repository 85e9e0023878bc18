package dev.switchboard.bench;

import dev.switchboard.ops.ProcessMemory;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The local processes a run should account for (the load generator itself, the nodes, Redis),
 * by name: their CPU time from {@code /proc/<pid>/stat}, so a result can say where the two
 * cores went. Empty when the nodes are remote or the OS is not Linux.
 */
final class Processes {

  /** USER_HZ: the unit of utime and stime in /proc/<pid>/stat on every Linux build we run on. */
  private static final double TICKS_PER_SECOND = 100.0;

  private final Map<String, Long> pids = new LinkedHashMap<>();

  Processes() {
    pids.put("bench", ProcessHandle.current().pid());
  }

  Processes add(String name, long pid) {
    pids.put(name, pid);
    return this;
  }

  /** CPU seconds (user + system) per process so far; -1 where it cannot be read. */
  Map<String, Double> cpuSeconds() {
    Map<String, Double> cpu = new LinkedHashMap<>();
    pids.forEach((name, pid) -> cpu.put(name, cpuSeconds(pid)));
    return cpu;
  }

  /** CPU used between two readings, in percent of one core: 200 is both cores of a 2-core machine. */
  static JsonObject percentOfCore(Map<String, Double> before, Map<String, Double> after, double seconds) {
    JsonObject o = new JsonObject();
    after.forEach((name, end) -> {
      Double start = before.get(name);
      if (start != null && start >= 0 && end >= 0) {
        o.put(name, Math.round((end - start) / seconds * 100));
      }
    });
    return o;
  }

  /**
   * CPU microseconds that the processes whose names start with {@code prefix} used together
   * between two readings, per unit of work done in between (a message delivered, a join);
   * -1 when nothing was done or a reading failed.
   */
  static double microsPerUnit(Map<String, Double> before, Map<String, Double> after, String prefix, long units) {
    double seconds = 0;
    for (Map.Entry<String, Double> e : after.entrySet()) {
      Double start = before.get(e.getKey());
      if (!e.getKey().startsWith(prefix)) {
        continue;
      }
      if (start == null || start < 0 || e.getValue() < 0) {
        return -1;
      }
      seconds += e.getValue() - start;
    }
    return units <= 0 ? -1 : Math.round(seconds * 1e7 / units) / 10.0;
  }

  long pid(String name) {
    return pids.getOrDefault(name, -1L);
  }

  long residentBytes(String name) {
    Long pid = pids.get(name);
    return pid == null ? -1 : ProcessMemory.residentBytes(pid);
  }

  static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
