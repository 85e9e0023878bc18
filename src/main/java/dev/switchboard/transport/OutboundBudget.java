package dev.switchboard.transport;

import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes written to this node's sockets and not yet taken by the kernel, summed over every
 * connection and event loop. Each connection bounds its own backlog; this bounds their sum, so
 * that many slow consumers at once cannot grow the node's memory past
 * {@code limits.node-outbound-bytes}.
 *
 * <p>Every write adds and every completed write subtracts, from every event loop: a
 * {@link LongAdder} keeps those uncontended. The sum is read only when a connection is already
 * over its own write queue limit, which is rare.
 */
public final class OutboundBudget {

  private final long limit;
  private final LongAdder bytes = new LongAdder();

  public OutboundBudget(long limit) {
    this.limit = limit;
  }

  void add(long delta) {
    bytes.add(delta);
  }

  /** True when the node holds more outbound bytes than its limit. */
  boolean exceeded() {
    return bytes.sum() > limit;
  }

  /** Bytes waiting now. */
  public long bytes() {
    return bytes.sum();
  }
}
