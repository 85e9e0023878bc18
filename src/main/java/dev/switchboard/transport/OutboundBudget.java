package dev.switchboard.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes written to this node's sockets and not yet taken by the kernel, summed over every
 * connection and event loop. Each connection bounds its own backlog; this bounds their sum, so
 * that many slow consumers at once cannot grow the node's memory past
 * {@code limits.node-outbound-bytes}.
 */
public final class OutboundBudget {

  private final long limit;
  private final AtomicLong bytes = new AtomicLong();

  public OutboundBudget(long limit) {
    this.limit = limit;
  }

  void add(long delta) {
    bytes.addAndGet(delta);
  }

  /** True when the node holds more outbound bytes than its limit. */
  boolean exceeded() {
    return bytes.get() > limit;
  }

  /** Bytes waiting now. */
  public long bytes() {
    return bytes.get();
  }
}
