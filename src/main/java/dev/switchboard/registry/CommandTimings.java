package dev.switchboard.registry;

/**
 * Where the store reports how long each Redis command or script took, and whether it failed
 * (the node's metrics; nothing for the command line and the tests that need none).
 */
@FunctionalInterface
public interface CommandTimings {

  CommandTimings NONE = (command, nanos, failed) -> { };

  void record(String command, long nanos, boolean failed);
}
