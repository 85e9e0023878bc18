package dev.switchboard.async;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Brings a future's outcome back to an event loop: a store's answer completes on the store
 * client's thread, and state that belongs to one loop must only be touched there.
 */
public final class OnLoop {

  private OnLoop() {
  }

  /** {@code f}, completing on {@code context}, whatever thread completed it. */
  public static <T> Future<T> of(Context context, Future<T> f) {
    Promise<T> p = Promise.promise();
    f.onComplete(ar -> context.runOnContext(v -> p.handle(ar)));
    return p.future();
  }
}
