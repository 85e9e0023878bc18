package dev.switchboard.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.function.Supplier;

/**
 * A slice of a scenario's peers that lives on one event loop: its peers, counters and
 * histograms are touched by that loop only, so nothing is shared or locked while the load runs.
 * The driving thread reaches in through {@link #call}.
 */
abstract class Shard extends VerticleBase {

  /** Runs {@code work} on this shard's event loop and hands its result to the calling thread. */
  final <T> Future<T> call(Supplier<Future<T>> work) {
    Context c = context;
    Promise<T> result = Promise.promise();
    c.runOnContext(v -> {
      try {
        work.get().onComplete(result);
      } catch (RuntimeException e) {
        result.fail(e);
      }
    });
    return result.future();
  }
}
