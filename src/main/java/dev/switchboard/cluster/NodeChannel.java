package dev.switchboard.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's one clustered address, {@code sb.node.<id>}, and sending to other nodes' addresses.
 *
 * <p>All traffic from one node to another travels on this address, so it is one ordered channel
 * per pair of nodes: whatever one sender (one event loop) sends to a node arrives there in the
 * order sent. The consumer runs on one event loop and only routes: it hands each envelope to the
 * local session (or the room's local sessions), each on the event loop of its socket.
 *
 * <p>An envelope for this node itself does not touch the event bus: it is routed at once on the
 * caller's thread, which keeps the same order guarantee for peers on the same node.
 *
 * <p>Envelopes sent from an event loop are batched: what one turn of the loop sends to a node
 * (every socket it read in that turn) leaves as one event bus message, at the end of the turn,
 * in the order sent. One message instead of dozens means one write on the connection between
 * the two nodes, one read and one dispatch on the other side, instead of one each per relay
 * (docs/benchmarks.md has the profile that showed it). A batch holds at most
 * {@link #MAX_BATCH} envelopes; a fuller one leaves at once. Sends from other threads (tests,
 * start-up) go out one by one.
 */
public final class NodeChannel {

  private final Vertx vertx;
  private final String nodeId;
  /** Envelopes in one batch at most: bounds the outbox of a loop and the size of one message. */
  static final int MAX_BATCH = 128;

  private final DeliveryOptions options = new DeliveryOptions().setCodecName(EnvelopeBatchCodec.NAME);
  /** Each event loop's envelopes of the current turn, by target node; touched by that loop only. */
  private final ThreadLocal<Outbox> outboxes = ThreadLocal.withInitial(Outbox::new);
  private Handler<Envelope> router;
  private MessageConsumer<EnvelopeBatch> consumer;

  public NodeChannel(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.nodeId = nodeId;
  }

  /** Registers the codecs (once per Vert.x instance). */
  public static void registerCodec(Vertx vertx) {
    vertx.eventBus().registerCodec(new EnvelopeCodec());
    vertx.eventBus().registerCodec(new EnvelopeBatchCodec());
  }

  public String nodeId() {
    return nodeId;
  }

  /**
   * Registers {@code sb.node.<id>} cluster-wide; the future completes once other nodes can
   * reach it. Call before the node takes sockets.
   */
  public Future<Void> start(Handler<Envelope> router) {
    this.router = router;
    consumer = vertx.eventBus().consumer(Addresses.node(nodeId), msg -> msg.body().envelopes().forEach(router::handle));
    return consumer.completion();
  }

  /**
   * Sends {@code envelope} to {@code node}: routed at once when it is this node; else, from an
   * event loop, with the loop's other envelopes for that node at the end of this turn.
   */
  public void send(String node, Envelope envelope) {
    if (nodeId.equals(node)) {
      router.handle(envelope);
      return;
    }
    Context context = Vertx.currentContext();
    if (context == null || !Context.isOnEventLoopThread() || !context.isEventLoopContext()) {
      vertx.eventBus().send(Addresses.node(node), new EnvelopeBatch(List.of(envelope)), options);
      return;
    }
    Outbox outbox = outboxes.get();
    List<Envelope> batch = outbox.byNode.computeIfAbsent(node, k -> new ArrayList<>());
    batch.add(envelope);
    if (batch.size() >= MAX_BATCH) {
      outbox.flush(node);
    }
    if (!outbox.flushScheduled) {
      outbox.flushScheduled = true;
      context.runOnContext(v -> outbox.flushAll());
    }
  }

  /** One event loop's envelopes waiting for the end of its turn. */
  private final class Outbox {
    private final Map<String, List<Envelope>> byNode = new HashMap<>();
    private boolean flushScheduled;

    void flush(String node) {
      List<Envelope> batch = byNode.remove(node);
      if (batch != null && !batch.isEmpty()) {
        vertx.eventBus().send(Addresses.node(node), new EnvelopeBatch(batch), options);
      }
    }

    void flushAll() {
      flushScheduled = false;
      for (String node : List.copyOf(byNode.keySet())) {
        flush(node);
      }
    }
  }

  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
