package dev.switchboard.transport;

import dev.switchboard.config.Config;
import io.vertx.core.Context;
import io.vertx.core.http.ServerWebSocket;
import java.util.function.Consumer;

/**
 * One socket's outbound side: the bytes written to it that the kernel has not taken yet (from
 * the write until its future completes), counted for the socket and for the node
 * ({@link OutboundBudget}), and the slow-consumer rule. A socket with more than
 * {@code limits.write-queue-bytes} waiting is a slow consumer: it is given up on if it stays one
 * for {@code limits.slow-consumer-timeout}, at once if its backlog would pass
 * {@code limits.outbound-bytes}, and at once while the whole node holds more than
 * {@code limits.node-outbound-bytes}. Used on the socket's event loop only.
 */
final class SocketBacklog {

  private final ServerWebSocket ws;
  private final Context context;
  private final Config.Limits limits;
  private final OutboundBudget node;
  private final Consumer<String> slow;
  private long pending;
  private long slowTimer = -1;

  /** {@code slow} is told, with why, when the socket is to be given up on. */
  SocketBacklog(ServerWebSocket ws, Context context, Config.Limits limits, OutboundBudget node, Consumer<String> slow) {
    this.ws = ws;
    this.context = context;
    this.limits = limits;
    this.node = node;
    this.slow = slow;
  }

  /** Writes {@code frame}; false (nothing written, {@code slow} told) if it would pass the socket's bound. */
  boolean write(String frame) {
    int bytes = Utf8.length(frame);
    if (pending + bytes > limits.outboundBytes()) {
      slow.accept("more than " + limits.outboundBytes() + " bytes waiting");
      return false;
    }
    pending += bytes;
    node.add(bytes);
    ws.writeTextMessage(frame).onComplete(ar -> {
      pending -= bytes;
      node.add(-bytes);
      if (pending <= limits.writeQueueBytes()) {
        stop();
      }
    });
    if (pending > limits.writeQueueBytes()) {
      if (node.exceeded()) {
        slow.accept("the node's outbound bytes are over their limit");
      } else if (slowTimer < 0) {
        slowTimer = context.owner().setTimer(limits.slowConsumerTimeout().toMillis(), id -> {
          slowTimer = -1;
          if (pending > limits.writeQueueBytes()) {
            slow.accept("a slow consumer for " + limits.slowConsumerTimeout().toMillis() + "ms");
          }
        });
      }
    }
    return true;
  }

  /** Bytes written and not yet taken by the kernel. */
  long pendingBytes() {
    return pending;
  }

  /** Stops watching for a slow consumer (caught up, or closed). */
  void stop() {
    if (slowTimer >= 0) {
      context.owner().cancelTimer(slowTimer);
      slowTimer = -1;
    }
  }
}
