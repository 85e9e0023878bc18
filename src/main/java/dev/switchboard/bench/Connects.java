package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.IntFunction;

/**
 * Runs {@code count} connects (or any other tasks) on the calling event loop with at most
 * {@code inFlight} pending at once, so a scenario opening thousands of sockets neither floods the
 * node's accept queue nor waits for them one by one.
 */
final class Connects {

  private final int count;
  private final int inFlight;
  private final IntFunction<Future<Void>> task;
  private final Promise<Void> done = Promise.promise();
  private int next;
  private int pending;
  private Throwable failure;

  private Connects(int count, int inFlight, IntFunction<Future<Void>> task) {
    this.count = count;
    this.inFlight = inFlight;
    this.task = task;
  }

  /**
   * Starts tasks 0 to {@code count - 1}; completes when all succeeded, or fails with the first
   * failure once the tasks already started have finished (no new ones start after a failure).
   */
  static Future<Void> inOrder(int count, int inFlight, IntFunction<Future<Void>> task) {
    Connects c = new Connects(count, inFlight, task);
    c.fill();
    return c.done.future();
  }

  private void fill() {
    while (failure == null && pending < inFlight && next < count) {
      pending++;
      task.apply(next++).onComplete(ar -> {
        pending--;
        if (ar.failed() && failure == null) {
          failure = ar.cause();
        }
        fill();
      });
    }
    if (pending == 0 && (failure != null || next == count)) {
      if (failure != null) {
        done.tryFail(failure);
      } else {
        done.tryComplete();
      }
    }
  }
}
