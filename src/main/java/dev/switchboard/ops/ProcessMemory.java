package dev.switchboard.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident set size of a process, read from {@code /proc/<pid>/statm} (Linux). Reading a
 * procfs file is a memory copy in the kernel, never disk I/O, so it is safe on an event loop.
 */
public final class ProcessMemory {

  /** Linux's page size on every architecture the node runs on (x86-64, arm64 with 4 KiB pages). */
  private static final long PAGE_BYTES = 4096;

  private ProcessMemory() {
  }

  /** This process's resident bytes, or -1 where {@code /proc} is not there. */
  public static long residentBytes() {
    return residentBytes(ProcessHandle.current().pid());
  }

  /** Process {@code pid}'s resident bytes, or -1 where it cannot be read. */
  public static long residentBytes(long pid) {
    try {
      String[] fields = Files.readString(Path.of("/proc", Long.toString(pid), "statm")).trim().split(" ");
      return Long.parseLong(fields[1]) * PAGE_BYTES;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
