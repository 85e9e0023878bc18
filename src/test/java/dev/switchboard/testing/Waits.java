package dev.switchboard.testing;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waiting for tests that watch a cluster settle. */
public final class Waits {

  private Waits() {
  }

  /** Polls {@code condition} until it holds or {@code ms} pass; returns its last value. */
  public static boolean waitFor(long ms, BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + ms;
    while (System.currentTimeMillis() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      sleep(10);
    }
    return condition.getAsBoolean();
  }

  /**
   * Reads {@code read} until it equals {@code expected} or {@code ms} pass; returns its last value,
   * so that the caller's {@code assertEquals(expected, ...)} shows what it was when time ran out.
   */
  public static <T> T until(long ms, Supplier<T> read, T expected) {
    long deadline = System.currentTimeMillis() + ms;
    T now = read.get();
    while (!now.equals(expected) && System.currentTimeMillis() < deadline) {
      sleep(50);
      now = read.get();
    }
    return now;
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Everything {@code p} receives until it has been quiet for {@code quietMs}. */
  public static List<JsonObject> drain(TestPeer p, long quietMs) {
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      try {
        out.add(p.next(Duration.ofMillis(quietMs)));
      } catch (AssertionError quiet) {
        return out;
      }
    }
  }
}
