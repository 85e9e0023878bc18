package dev.switchboard.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport between nodes: this node's one clustered address, {@code sb.node.<id>}, and
 * sending to the other nodes' addresses. It knows envelopes, not what they mean: what arrives is
 * handed to the {@link Receiver} given at {@link #start}.
 *
 * <p>All traffic from one node to another travels on that address, so it is one ordered channel
 * per pair of nodes: whatever one event loop sends to a node arrives there in the order sent.
 * Each event loop is a numbered stream, and each batch it sends to a node carries the next
 * number of that stream: the receiver counts gaps and reorders ({@link #gaps()}), so a change in
 * the event bus's ordering shows in production, not only in a test.
 *
 * <p>What one turn of an event loop sends to a node leaves as one event bus message, at the end
 * of the turn, in the order sent (docs/design.md has the measurement behind it). A batch holds at
 * most {@link #MAX_BATCH} envelopes; a fuller one leaves at once. Sends from other threads
 * (start-up, tests) go out one by one, unnumbered.
 */
public final class NodeChannel {

  private static final Logger log = LoggerFactory.getLogger(NodeChannel.class);

  /** Envelopes in one batch at most: bounds the outbox of a loop and the size of one message. */
  static final int MAX_BATCH = 128;
  /** Streams (or target nodes) whose numbering one side follows; past it, the map starts over. */
  static final int MAX_TRACKED_STREAMS = 4096;

  /** What a node does with the envelopes that reach it. */
  @FunctionalInterface
  public interface Receiver {
    /** Called on the channel's event loop, in the order sent, for each envelope of each batch. */
    void receive(String origin, Envelope envelope);
  }

  private final Vertx vertx;
  private final String nodeId;
  private final DeliveryOptions options = new DeliveryOptions().setCodecName(BatchCodec.NAME);
  /** How long a probe waits for a node's answer before giving it the benefit of the doubt. */
  static final long PROBE_TIMEOUT_MS = 2000;
  private final DeliveryOptions probeOptions = new DeliveryOptions().setCodecName(BatchCodec.NAME)
      .setSendTimeout(PROBE_TIMEOUT_MS);
  private final AtomicInteger streams = new AtomicInteger();
  /** Each event loop's envelopes of the current turn, by target node; touched by that loop only. */
  private final ThreadLocal<Outbox> outboxes = ThreadLocal.withInitial(() -> new Outbox(streams.incrementAndGet()));
  /** The last batch number seen per sending stream ({@code origin/stream}); the consumer's loop only. */
  private final Map<String, Long> lastSeq = new HashMap<>();
  private final LongAdder gaps = new LongAdder();
  private final LongAdder skipped = new LongAdder();
  /** Batches received in the first release's format: while not 0, a node of it is in the cluster. */
  private final LongAdder legacyBatches = new LongAdder();
  private MessageConsumer<Batch> consumer;

  public NodeChannel(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.nodeId = nodeId;
  }

  /**
   * Registers the codec in the node-to-node format version {@code writeVersion} (once per Vert.x
   * instance). Every version is read whatever this says.
   */
  public static void registerCodec(Vertx vertx, int writeVersion) {
    vertx.eventBus().registerCodec(new BatchCodec(writeVersion));
  }

  /**
   * Registers {@code sb.node.<id>} cluster-wide; the future completes once other nodes can reach
   * it. Call before the node takes sockets.
   */
  public Future<Void> start(Receiver receiver) {
    consumer = vertx.eventBus().consumer(Addresses.node(nodeId), msg -> {
      Batch batch = msg.body();
      track(batch);
      for (Envelope e : batch.envelopes()) {
        receiver.receive(batch.origin(), e);
      }
      if (msg.replyAddress() != null) {
        msg.reply(null); // a probe: this node is here
      }
    });
    return consumer.completion();
  }

  /** Sends {@code envelope} to another node: from an event loop, with the loop's other envelopes for that node. */
  public void send(String node, Envelope envelope) {
    Context context = Vertx.currentContext();
    if (context == null || !Context.isOnEventLoopThread() || !context.isEventLoopContext()) {
      vertx.eventBus().send(Addresses.node(node), Batch.of(nodeId, envelope), options);
      return;
    }
    outboxes.get().add(context, node, envelope);
  }

  /**
   * Whether {@code node} is in the cluster now: its address has a consumer that answers. False
   * only when the event bus knows no consumer for it (the node left the cluster or never joined);
   * a node that is there but slow (or of the first release, which does not answer) counts as
   * there, so that a doubt never declares a live node dead.
   */
  public Future<Boolean> reachable(String node) {
    return vertx.eventBus().request(Addresses.node(node), Batch.of(nodeId, 0, 0, List.of()), probeOptions)
        .map(reply -> true)
        .recover(err -> Future.succeededFuture(
            !(err instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS)));
  }

  /** Batches that arrived out of their stream's order or after a missing one, since start. */
  public long gaps() {
    return gaps.sum();
  }

  /** Entries of kinds this node does not know (sent by a newer node), skipped since start. */
  public long skippedEntries() {
    return skipped.sum();
  }

  /**
   * Batches received in the first release's format ({@link WireFormat#LEGACY}) since start: a node
   * still writes it (a node of the first release, or one told to with {@code cluster.wire-version}).
   */
  public long legacyBatches() {
    return legacyBatches.sum();
  }

  private void track(Batch batch) {
    if (batch.version() == WireFormat.LEGACY) {
      legacyBatches.increment();
    }
    if (batch.skipped() > 0) {
      skipped.add(batch.skipped());
    }
    if (batch.seq() == 0) {
      return;
    }
    if (lastSeq.size() >= MAX_TRACKED_STREAMS) {
      lastSeq.clear();
    }
    Long last = lastSeq.put(batch.origin() + "/" + batch.stream(), batch.seq());
    // A stream starts at 1: a node that restarted under the same id numbers from 1 again.
    if (last != null && batch.seq() != last + 1 && batch.seq() != 1) {
      gaps.increment();
      log.atWarn().addKeyValue("origin", batch.origin()).addKeyValue("stream", batch.stream())
          .addKeyValue("expected", last + 1).addKeyValue("got", batch.seq())
          .log("node-to-node batches out of order or missing");
    }
  }

  /** One event loop's envelopes waiting for the end of its turn. */
  private final class Outbox {
    private final int stream;
    private final Map<String, List<Envelope>> byNode = new HashMap<>();
    private final Map<String, Long> seqByNode = new HashMap<>();
    private boolean flushScheduled;

    Outbox(int stream) {
      this.stream = stream;
    }

    void add(Context context, String node, Envelope envelope) {
      List<Envelope> batch = byNode.computeIfAbsent(node, k -> new ArrayList<>());
      batch.add(envelope);
      if (batch.size() >= MAX_BATCH) {
        flush(node);
      }
      if (!flushScheduled) {
        flushScheduled = true;
        context.runOnContext(v -> flushAll());
      }
    }

    void flush(String node) {
      List<Envelope> batch = byNode.remove(node);
      if (batch != null && !batch.isEmpty()) {
        if (seqByNode.size() >= MAX_TRACKED_STREAMS && !seqByNode.containsKey(node)) {
          // Nodes come and go under new ids: forget them all. Numbering starts again at 1,
          // which receivers take as a restart, not as a gap.
          seqByNode.clear();
        }
        long seq = seqByNode.merge(node, 1L, Long::sum);
        vertx.eventBus().send(Addresses.node(node), Batch.of(nodeId, stream, seq, batch), options);
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
