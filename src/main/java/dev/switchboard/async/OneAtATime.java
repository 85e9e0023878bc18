package dev.switchboard.async;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Runs an asynchronous step for each item of a list, one after the other: the next step starts
 * when the previous one has completed. For node-wide clean-ups that must not send thousands of
 * commands to the store at once.
 */
public final class OneAtATime {

  private OneAtATime() {
  }

  /**
   * Runs {@code step} on each of {@code items} in order; completes with the results in the same
   * order, or fails with the first step that failed (the later ones do not run). A step that may
   * fail without stopping the rest recovers itself.
   */
  public static <T, R> Future<List<R>> each(List<T> items, Function<T, Future<R>> step) {
    List<R> results = new ArrayList<>(items.size());
    Future<Void> chain = Future.succeededFuture();
    for (T item : items) {
      chain = chain.compose(v -> step.apply(item).map(r -> {
        results.add(r);
        return null;
      }));
    }
    return chain.map(v -> results);
  }
}
