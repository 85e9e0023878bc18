package dev.switchboard.registry;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's open connections, mirrored into {@code sb:nodes}. The count is written as an
 * absolute value from the node's own truth, one write at a time: a change made while a write
 * is in flight is written right after it, so Redis always ends at the latest value and a burst
 * of connects costs a few writes, not one each.
 */
public final class NodeLoad {

  private static final Logger log = LoggerFactory.getLogger(NodeLoad.class);
  /** After a failed write, try again after this long (Redis may be restarting). */
  private static final long RETRY_MS = 1000;

  private final Vertx vertx;
  private final Redis redis;
  private final Keys keys;
  private final String node;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicBoolean writing = new AtomicBoolean();
  private volatile boolean dirty;
  private volatile boolean stopped;

  public NodeLoad(Vertx vertx, Redis redis, Keys keys, String node) {
    this.vertx = vertx;
    this.redis = redis;
    this.keys = keys;
    this.node = node;
  }

  public int connections() {
    return connections.get();
  }

  public void connected() {
    connections.incrementAndGet();
    flush();
  }

  public void disconnected() {
    connections.decrementAndGet();
    flush();
  }

  /** Writes the current count now (at start-up). */
  public Future<Void> publish() {
    return redis.send(Request.cmd(Command.ZADD).arg(keys.nodes()).arg(connections.get()).arg(node))
        .mapEmpty();
  }

  /** Removes this node from {@code sb:nodes} (clean shutdown). */
  public Future<Void> withdraw() {
    stopped = true;
    return redis.send(Request.cmd(Command.ZREM).arg(keys.nodes()).arg(node)).mapEmpty();
  }

  private void flush() {
    dirty = true;
    if (stopped || !writing.compareAndSet(false, true)) {
      return;
    }
    dirty = false;
    int n = connections.get();
    redis.send(Request.cmd(Command.ZADD).arg(keys.nodes()).arg(n).arg(node)).onComplete(ar -> {
      writing.set(false);
      if (ar.failed()) {
        log.atWarn().addKeyValue("node", node).addKeyValue("connections", n)
            .addKeyValue("error", ar.cause().getMessage()).log("could not write node load to Redis; retrying");
        vertx.setTimer(RETRY_MS, id -> flush());
      } else if (dirty) {
        flush();
      }
    });
  }
}
