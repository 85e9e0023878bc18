package dev.switchboard.cluster;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;

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
 */
public final class NodeChannel {

  private final Vertx vertx;
  private final String nodeId;
  private final DeliveryOptions options = new DeliveryOptions().setCodecName(EnvelopeCodec.NAME);
  private Handler<Envelope> router;
  private MessageConsumer<Envelope> consumer;

  public NodeChannel(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.nodeId = nodeId;
  }

  /** Registers the codec (once per Vert.x instance). */
  public static void registerCodec(Vertx vertx) {
    vertx.eventBus().registerCodec(new EnvelopeCodec());
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
    consumer = vertx.eventBus().consumer(Addresses.node(nodeId), msg -> router.handle(msg.body()));
    return consumer.completion();
  }

  /** Sends {@code envelope} to {@code node}: routed at once when it is this node. */
  public void send(String node, Envelope envelope) {
    if (nodeId.equals(node)) {
      router.handle(envelope);
    } else {
      vertx.eventBus().send(Addresses.node(node), envelope, options);
    }
  }

  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
