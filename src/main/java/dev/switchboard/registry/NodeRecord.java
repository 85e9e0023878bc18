package dev.switchboard.registry;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's record and load in Redis: {@code sb:node:<node>} (a hash with a TTL of a few
 * heartbeats) and its score in {@code sb:nodes}. Written every heartbeat and at once when a
 * socket opens or closes, always as absolute values from the node's own truth, so they cannot
 * drift; one write at a time, and a change made during a write is written right after it.
 *
 * <p>Each write also reads the data epoch ({@code sb:epoch}, set once when Redis has none). A
 * new epoch means Redis lost its data: the {@link Listener} is told and the node writes its
 * members back. A reaped marker ({@code sb:reaped:<node>}) means another node declared this one
 * dead and announced its peers as lost: the listener is told, and the marker is removed once it
 * has dropped its stale state; until then every write finds it again, so a lost answer cannot
 * hide it. A record that merely expired (Redis was out of reach for longer than the TTL, nobody
 * reaped) is written back and nothing else happens.
 */
public final class NodeRecord {

  private static final Logger log = LoggerFactory.getLogger(NodeRecord.class);
  private static final LuaScript HEARTBEAT = LuaScript.load("heartbeat.lua");
  /** After a failed write, try again after this long (Redis may be restarting). */
  private static final long RETRY_MS = 1000;
  /** The least time a write may take before it counts as failed (a busy machine at start-up). */
  private static final long MIN_WRITE_TIMEOUT_MS = 2000;
  /** How long a clean shutdown waits for a write in flight before deleting the record. */
  private static final long WITHDRAW_WAIT_MS = 2000;

  /** What the node does about what its writes find. Called on a Vert.x thread, one call at a time. */
  public interface Listener {
    /** Redis lost its data (a new epoch): the node's members must be written back. */
    void dataLost();

    /** A write succeeded after writes failed: Redis is back, and may list what left meanwhile. */
    void redisBack();

    /** Another node declared this one dead and announced its peers as lost. */
    void reaped();
  }

  /** What a node tells the world about itself, besides its load. */
  public record Identity(String node, String url, String version, long startedAt) {
  }

  private final Vertx vertx;
  private final Redis redis;
  private final Keys keys;
  private final Identity identity;
  private final long heartbeatMs;
  private final long ttlMs;
  private final IntSupplier rooms;
  private final AtomicInteger connections = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong beats = new java.util.concurrent.atomic.AtomicLong();
  private final AtomicBoolean writing = new AtomicBoolean();
  /** Completes when the write in flight (if any) has landed; a withdrawal waits for it. */
  private volatile Future<Boolean> inFlight = Future.succeededFuture(false);
  private volatile boolean dirty;
  private volatile boolean stopped;
  private volatile boolean written;
  private volatile String state = "active";
  private volatile Listener listener;
  /** When the current run of successful writes began; -1 while writes fail. */
  private volatile long healthySince = -1;
  private volatile String epoch;
  private volatile boolean redisUp;
  private long timer = -1;

  public NodeRecord(Vertx vertx, Redis redis, Keys keys, Identity identity, Duration heartbeat, Duration ttl,
                  IntSupplier rooms) {
    this.vertx = vertx;
    this.redis = redis;
    this.keys = keys;
    this.identity = identity;
    this.heartbeatMs = heartbeat.toMillis();
    this.ttlMs = ttl.toMillis();
    this.rooms = rooms;
  }

  public int connections() {
    return connections.get();
  }

  public String state() {
    return state;
  }

  /** Removes the reaped marker once this node has dropped its stale state. */
  private Future<Void> acknowledgeReaped() {
    return redis.send(Request.cmd(Command.DEL).arg(keys.reaped(identity.node()))).mapEmpty();
  }

  /** When this node last learned that another had declared it dead (ms since the epoch; 0: never). */
  private volatile long reapedSeenAt;

  /** Whether another node declared this one dead within the last {@code ms}: its view of the cluster was stale. */
  public boolean reapedWithin(long ms) {
    long at = reapedSeenAt;
    return at > 0 && System.currentTimeMillis() - at < ms;
  }

  /** How long this node's writes to Redis have been succeeding without a break, in ms (0: not now). */
  public long healthyForMs() {
    long since = healthySince;
    return since < 0 ? 0 : System.currentTimeMillis() - since;
  }

  /** The data epoch this node last read from Redis; {@code null} before the first write. */
  public String epoch() {
    return epoch;
  }

  /** True if the last write to Redis succeeded. */
  public boolean redisUp() {
    return redisUp;
  }

  /** Writes the record now (after a change that must not wait for the next heartbeat). */
  public void touch() {
    flush();
  }

  public void connected() {
    connections.incrementAndGet();
    flush();
  }

  public void disconnected() {
    connections.decrementAndGet();
    flush();
  }

  /** Writes the record now and then every heartbeat, telling {@code listener} what the writes find. */
  public Future<Void> start(Listener listener) {
    this.listener = listener;
    timer = vertx.setPeriodic(heartbeatMs, id -> flush());
    return write().mapEmpty();
  }

  /** Marks the node draining (placement skips it, new sockets are refused) and writes that at once. */
  public void drain() {
    state = "draining";
    flush();
  }

  /** Marks the node active again (placement may choose it) and writes that at once. */
  public void undrain() {
    state = "active";
    flush();
  }

  /** Whether the node is draining: it takes no new sockets. */
  public boolean draining() {
    return "draining".equals(state);
  }

  /** Stops heartbeating and removes this node's record and score (clean shutdown). */
  public Future<Void> withdraw() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    // A write still in flight would bring the record back after the delete: let it land first.
    Future<Boolean> idle = inFlight.timeout(WITHDRAW_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .recover(err -> Future.succeededFuture(false));
    return idle.compose(v -> Future.all(
            redis.send(Request.cmd(Command.DEL).arg(keys.node(identity.node()))),
            redis.send(Request.cmd(Command.ZREM).arg(keys.nodes()).arg(identity.node())))
        .mapEmpty());
  }

  private void flush() {
    dirty = true;
    if (stopped || !writing.compareAndSet(false, true)) {
      return;
    }
    dirty = false;
    inFlight = write();
    inFlight.onComplete(ar -> {
      writing.set(false);
      redisUp = ar.succeeded();
      if (ar.failed()) {
        healthySince = -1;
        log.atWarn().addKeyValue("node", identity.node()).addKeyValue("error", ar.cause().getMessage())
            .log("could not write the node record to Redis; retrying");
        vertx.setTimer(RETRY_MS, t -> flush());
      } else if (dirty) {
        flush();
      }
    });
  }

  private Future<Boolean> write() {
    long now = System.currentTimeMillis();
    List<String> k = List.of(keys.node(identity.node()), keys.nodes(), keys.epoch(), keys.reaped(identity.node()));
    List<String> a = List.of(identity.node(), Integer.toString(connections.get()),
        Integer.toString(rooms.getAsInt()), state, identity.url(), Long.toString(identity.startedAt()),
        Long.toString(now), identity.version(), Long.toString(ttlMs), now + "-" + identity.node(),
        Long.toString(beats.incrementAndGet()));
    return HEARTBEAT.run(redis, k, a).timeout(Math.max(heartbeatMs, MIN_WRITE_TIMEOUT_MS), java.util.concurrent.TimeUnit.MILLISECONDS)
        .map(r -> {
          boolean existed = r.get(0).toInteger() == 1;
          String current = r.get(1).toString();
          boolean reaped = r.get(2).toInteger() == 1;
          String known = epoch;
          epoch = current;
          redisUp = true;
          boolean wasDown = healthySince < 0 && written;
          if (healthySince < 0) {
            healthySince = System.currentTimeMillis();
          }
          if (stopped) {
            return existed;
          }
          if (wasDown && !reaped) {
            listener.redisBack();
          }
          if (reaped) {
            reapedSeenAt = System.currentTimeMillis();
            log.atWarn().addKeyValue("node", identity.node())
                .log("another node declared this one dead and announced its peers as lost");
            listener.reaped();
            acknowledgeReaped();
          } else if (known != null && !known.equals(current)) {
            log.atWarn().addKeyValue("node", identity.node()).addKeyValue("epoch", current)
                .log("Redis lost its data (new epoch); writing this node's members back");
            listener.dataLost();
          } else if (!existed && written) {
            log.atWarn().addKeyValue("node", identity.node())
                .log("this node's record had expired (Redis out of reach past the TTL); written back");
          }
          written = true;
          return existed;
        });
  }
}
