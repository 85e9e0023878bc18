package dev.switchboard.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigLoader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The node channel between two real clustered Vert.x instances (Hazelcast on 127.0.0.1). */
@ExtendWith(VertxExtension.class)
class NodeChannelTest {

  private final List<Vertx> nodes = new ArrayList<>();

  @BeforeEach
  void startCluster() throws Exception {
    String name = "chan-" + UUID.randomUUID().toString().substring(0, 8);
    int port = 30000 + ThreadLocalRandom.current().nextInt(1000) * 20;
    for (int i = 0; i < 2; i++) {
      Config config = ConfigLoader.load(List.of("--cluster-name", name, "--cluster-port", Integer.toString(port),
          "--cluster-members", "127.0.0.1:" + port, "--node-id", "c" + i), Map.of());
      nodes.add(ClusterBoot.start(config, new dev.switchboard.metrics.NodeMetrics()).map(ClusterBoot.Started::vertx).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS));
    }
  }

  @AfterEach
  void stopCluster() throws Exception {
    Future.join(nodes.stream().map(Vertx::close).toList()).toCompletionStage().toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("10,000 envelopes from one sender reach the other node intact and in order")
  void orderedAcrossNodes(VertxTestContext ctx) {
    int count = 10_000;
    NodeChannel sender = new NodeChannel(nodes.get(0), "c0");
    NodeChannel receiver = new NodeChannel(nodes.get(1), "c1");
    Checkpoint done = ctx.checkpoint();
    int[] next = {0};
    receiver.start((origin, envelope) -> ctx.verify(() -> {
      Envelope.Relay e = (Envelope.Relay) envelope;
      assertEquals("c0", origin);
      assertEquals("room-1", e.room());
      assertEquals("bob", e.to());
      assertEquals("c0", e.origin());
      assertEquals(next[0], e.ref(), "envelope out of order");
      assertEquals("{\"n\":" + next[0] + ",\"é\":\"ü\"}", e.frame());
      if (++next[0] == count) {
        assertEquals(0, receiver.gaps(), "every batch in its stream's order");
        done.flag();
      }
    }))
        .compose(v -> sender.start((origin, e) -> ctx.failNow("sender got " + e)))
        .onComplete(ctx.succeeding(v -> nodes.get(0).runOnContext(x -> {
          for (int i = 0; i < count; i++) {
            sender.send("c1", new Envelope.Relay("room-1", "bob", "alice", 1L, "c0", i, "{\"n\":" + i + ",\"é\":\"ü\"}"));
          }
        })));
  }

  @Test
  @DisplayName("what one event loop turn sends to a node leaves as batches of at most 128, in order")
  void batchesPerTurn(VertxTestContext ctx) {
    NodeChannel sender = new NodeChannel(nodes.get(0), "c0");
    NodeChannel receiver = new NodeChannel(nodes.get(1), "c1");
    List<Integer> batchSizes = new ArrayList<>();
    nodes.get(0).eventBus().addOutboundInterceptor(dc -> {
      Object body = dc.body();
      if (body instanceof Batch b) {
        synchronized (batchSizes) {
          batchSizes.add(b.envelopes().size());
        }
      }
      dc.next();
    });
    List<Long> refs = new ArrayList<>();
    Checkpoint done = ctx.checkpoint();
    receiver.start((origin, e) -> {
      refs.add(((Envelope.Relay) e).ref());
      if (refs.size() == 301) {
        ctx.verify(() -> {
          for (int i = 0; i < 301; i++) {
            assertEquals(i, refs.get(i), "envelope out of order");
          }
          synchronized (batchSizes) {
            assertEquals(List.of(128, 128, 44, 1), batchSizes, "one turn's 300, then the next turn's one");
          }
        });
        done.flag();
      }
    }).compose(v -> sender.start((origin, e) -> ctx.failNow("sender got " + e)))
        .onComplete(ctx.succeeding(v -> nodes.get(0).runOnContext(x -> {
          for (int i = 0; i < 300; i++) {
            sender.send("c1", new Envelope.Relay("r", "bob", "alice", 1L, "c0", i, "{}"));
          }
          nodes.get(0).setTimer(50, t -> sender.send("c1", new Envelope.Relay("r", "bob", "alice", 1L, "c0", 300, "{}")));
        })));
  }

  @Test
  @DisplayName("a batch that arrives after a missing one of its stream, or out of order, is counted; a restart is not")
  void gapsCounted(VertxTestContext ctx) {
    NodeChannel receiver = new NodeChannel(nodes.get(1), "c1");
    List<Long> got = new ArrayList<>();
    Checkpoint done = ctx.checkpoint();
    receiver.start((origin, e) -> {
      got.add(((Envelope.Relay) e).ref());
      if (got.size() == 5) {
        ctx.verify(() -> {
          assertEquals(List.of(1L, 2L, 4L, 3L, 1L), got);
          assertEquals(2, receiver.gaps(), "4 after 2 (a gap), then 3 after 4 (out of order); 1 is a restart");
        });
        done.flag();
      }
    }).onComplete(ctx.succeeding(v -> {
      io.vertx.core.eventbus.DeliveryOptions options = new io.vertx.core.eventbus.DeliveryOptions()
          .setCodecName(BatchCodec.NAME);
      for (long seq : new long[] {1, 2, 4, 3, 1}) {
        nodes.get(0).eventBus().send(Addresses.node("c1"), Batch.of("c0", 1, seq,
            List.of(new Envelope.Relay("r", "bob", "alice", 1L, "c0", seq, "{}"))), options);
      }
    }));
  }
}
