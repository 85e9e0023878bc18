package dev.switchboard.races;

import dev.switchboard.cluster.Addresses;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import java.util.ArrayList;
import java.util.List;

/**
 * A slow cluster link for tests: while holding, every envelope one node sends to another node's
 * address is held, in order; {@link #release()} lets them go in the order they were sent. This is
 * what a slow (or just opening) event bus connection between two nodes looks like: it never
 * reorders one sender's messages, it only delays them.
 */
final class LinkGate implements AutoCloseable {

  private final Vertx from;
  private final String address;
  private final List<DeliveryContext<Object>> held = new ArrayList<>();
  private final Handler<DeliveryContext<Object>> interceptor;
  private boolean holding;

  LinkGate(Vertx from, String toNodeId) {
    this.from = from;
    this.address = Addresses.node(toNodeId);
    this.interceptor = this::intercept;
    from.eventBus().addOutboundInterceptor(interceptor);
  }

  private void intercept(DeliveryContext<Object> ctx) {
    synchronized (this) {
      if (holding && address.equals(ctx.message().address())) {
        held.add(ctx);
        return;
      }
    }
    ctx.next();
  }

  /** From now on, holds what goes to the node. */
  synchronized void hold() {
    holding = true;
  }

  /** Lets the held envelopes go, in order, and every later one straight through. */
  synchronized void release() {
    holding = false;
    // Under the lock: a message sent meanwhile waits in intercept() and cannot overtake.
    held.forEach(DeliveryContext::next);
    held.clear();
  }

  synchronized int held() {
    return held.size();
  }

  @Override
  public void close() {
    release();
    from.eventBus().removeOutboundInterceptor(interceptor);
  }
}
