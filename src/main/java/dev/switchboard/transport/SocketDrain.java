package dev.switchboard.transport;

import io.vertx.core.Context;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drain by migration: a draining node asks its clients, a few at a time, to reconnect (through
 * the load balancer, which sends them to another node) and resume there; each gets
 * {@code reconnect}, then a close (1001), and its peer is away until its client is back. The
 * sockets open when the drain starts are spread evenly over {@code node.drain-period}, so the
 * other nodes take them over at a bounded rate rather than all at once. Each verticle's share is
 * moved on its own event loop. A later drain, or an undrain, stops the one under way. Thread-safe.
 */
public final class SocketDrain {

  private static final Logger log = LoggerFactory.getLogger(SocketDrain.class);

  /** How often a batch leaves: the period is cut into steps this long. */
  static final long STEP_MS = 100;

  /** One verticle's sockets, touched on its event loop only. */
  private record Loop(Context context, Set<Connection> open) {
  }

  private final List<Loop> loops = new CopyOnWriteArrayList<>();
  /** Bumped by every drain and undrain: a step of an older drain stops. */
  private final AtomicLong generation = new AtomicLong();

  /** A verticle's sockets, which its event loop {@code context} owns. */
  void register(Context context, Set<Connection> open) {
    loops.add(new Loop(context, open));
  }

  void unregister(Context context) {
    loops.removeIf(l -> l.context() == context);
  }

  /** Starts moving every open socket to other nodes, spread over {@code period}. */
  public void start(Duration period) {
    long drain = generation.incrementAndGet();
    long steps = Math.max(1, period.toMillis() / STEP_MS);
    for (Loop loop : loops) {
      loop.context().runOnContext(v -> {
        ArrayDeque<Connection> queue = new ArrayDeque<>(loop.open());
        int perStep = (int) Math.max(1, (queue.size() + steps - 1) / steps);
        log.atInfo().addKeyValue("sockets", queue.size()).addKeyValue("perStep", perStep)
            .addKeyValue("stepMs", STEP_MS).log("draining: moving sockets to other nodes");
        step(loop, queue, perStep, drain);
      });
    }
  }

  /** Stops moving sockets: the node takes peers again. */
  public void stop() {
    generation.incrementAndGet();
  }

  private void step(Loop loop, ArrayDeque<Connection> queue, int perStep, long drain) {
    if (generation.get() != drain) {
      return;
    }
    for (int i = 0; i < perStep && !queue.isEmpty(); i++) {
      Connection c = queue.poll();
      if (loop.open().contains(c)) {
        c.migrate();
      }
    }
    if (!queue.isEmpty()) {
      loop.context().owner().setTimer(STEP_MS, t -> step(loop, queue, perStep, drain));
    }
  }
}
