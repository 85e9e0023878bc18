package dev.switchboard.room;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The relays of one session that carried an {@code id} and await the target node's answer.
 * Each gets exactly one answer: the ACK or NACK that comes back, or the unanswered callback,
 * after the timeout or as soon as the target's node leaves the cluster (it will not answer).
 * Bounded; one timer at a time. Used on the session's event loop only.
 */
final class PendingAcks {

  /** Relays with an id that may await their answer at once. */
  static final int MAX = 256;

  private record Pending(Object id, String to, String node, long deadlineNanos) {
  }

  private final Vertx vertx;
  private final long timeoutNanos;
  private final BiConsumer<Object, String> unanswered;
  private final LinkedHashMap<Long, Pending> pending = new LinkedHashMap<>();
  private long nextRef = 1;
  private long timer = -1;
  private Promise<Void> drained;

  /** {@code unanswered} is told the client's id of a relay that got no answer, and why (for people). */
  PendingAcks(Vertx vertx, long timeoutMs, BiConsumer<Object, String> unanswered) {
    this.vertx = vertx;
    this.timeoutNanos = timeoutMs * 1_000_000;
    this.unanswered = unanswered;
  }

  boolean isFull() {
    return pending.size() >= MAX;
  }

  /** Registers a relay with the client's {@code id}, sent to peer {@code to} on {@code node}; returns its reference (never 0). */
  long add(Object id, String to, String node) {
    long ref = nextRef++;
    pending.put(ref, new Pending(id, to, node, System.nanoTime() + timeoutNanos));
    arm();
    return ref;
  }

  /** Takes the answer for {@code ref}: the client's id, or null if it expired or is unknown. */
  Object take(long ref) {
    Pending p = pending.remove(ref);
    checkDrained();
    return p == null ? null : p.id();
  }

  /** Completes when every pending relay has had its answer (or its expiry). */
  Future<Void> drained() {
    if (pending.isEmpty()) {
      return Future.succeededFuture();
    }
    if (drained == null) {
      drained = Promise.promise();
    }
    return drained.future();
  }

  /** {@code node} left the cluster: the relays waiting for its answer will get none; they get theirs now. */
  void nodeLost(String node) {
    for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
      Pending p = it.next().getValue();
      if (node.equals(p.node())) {
        it.remove();
        unanswered.accept(p.id(), "the target's node left the cluster before it answered");
      }
    }
    checkDrained();
  }

  /**
   * Peer {@code to} moved from {@code from} to {@code node}: its old node hands the relays it
   * got on, and its new node answers them, so it is the new node whose leaving they wait on.
   */
  void moved(String to, String from, String node) {
    pending.replaceAll((ref, p) -> to.equals(p.to()) && from.equals(p.node())
        ? new Pending(p.id(), to, node, p.deadlineNanos()) : p);
  }

  /** The client ids of the relays still awaiting their answer, oldest first. */
  java.util.List<Object> pendingIds() {
    return pending.values().stream().map(Pending::id).toList();
  }

  /** Forgets everything (the socket is gone: nobody to answer). */
  void clear() {
    pending.clear();
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    checkDrained();
  }

  private void arm() {
    if (timer >= 0 || pending.isEmpty()) {
      return;
    }
    long first = pending.values().iterator().next().deadlineNanos();
    long delayMs = Math.max(1, (first - System.nanoTime()) / 1_000_000 + 1);
    timer = vertx.setTimer(delayMs, t -> {
      timer = -1;
      long now = System.nanoTime();
      for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
        Pending p = it.next().getValue();
        if (p.deadlineNanos() > now) {
          break;
        }
        it.remove();
        unanswered.accept(p.id(), "the target's node did not answer in time");
      }
      checkDrained();
      arm();
    });
  }

  private void checkDrained() {
    if (pending.isEmpty() && drained != null) {
      Promise<Void> d = drained;
      drained = null;
      d.complete();
    }
  }
}
