package dev.switchboard.webhooks;

import dev.switchboard.config.Config;
import dev.switchboard.metrics.NodeMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The node's webhooks: each room event that happened here ({@link RoomEvents}) becomes one JSON
 * body, {@code {id, event, at, node, room, seq, ...}}, POSTed to every {@code webhooks.urls} URL
 * by a {@link WebhookSink} of its own (in order, at least once, signed). Events not named in
 * {@code webhooks.events} are not sent. Counted in {@code /metrics}
 * ({@code switchboard_webhooks_*}).
 */
public final class Webhooks implements RoomEvents {

  private final String node;
  private final Set<String> events;
  private final List<WebhookSink> sinks = new ArrayList<>();
  private final HttpClient http;

  public Webhooks(Vertx vertx, Config.Webhooks config, String node, NodeMetrics metrics) {
    this.node = node;
    this.events = Set.copyOf(config.events());
    // One connection per receiver is enough: each URL has one POST in flight at a time.
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(1));
    MeterRegistry r = metrics.registry();
    Counter delivered = Counter.builder("switchboard.webhooks.delivered")
        .description("Webhook events their receiver took (2xx)").register(r);
    Counter retried = Counter.builder("switchboard.webhooks.retries")
        .description("Webhook POSTs that failed and will be tried again").register(r);
    Counter full = dropped(r, "queue_full");
    Counter refused = dropped(r, "refused");
    WebhookSink.Outcomes outcomes = new WebhookSink.Outcomes() {
      @Override
      public void delivered() {
        delivered.increment();
      }

      @Override
      public void retried() {
        retried.increment();
      }

      @Override
      public void dropped(String why) {
        ("refused".equals(why) ? refused : full).increment();
      }
    };
    for (String url : config.urls()) {
      sinks.add(new WebhookSink(vertx, http, url, config.secret(), config.queue(), config.timeout().toMillis(),
          config.maxBackoff().toMillis(), outcomes));
    }
    Gauge.builder("switchboard.webhooks.queued", () -> sinks.stream().mapToInt(WebhookSink::size).sum())
        .description("Webhook events waiting to be delivered, all URLs").register(r);
  }

  private static Counter dropped(MeterRegistry r, String why) {
    return Counter.builder("switchboard.webhooks.dropped").tag("why", why)
        .description("Webhook events given up: the queue was full, or the receiver refused them (4xx)").register(r);
  }

  /**
   * Completes once every event queued so far was delivered or given up, or after {@code maxMs}:
   * a stopping node gives its last events (its peers' leaves) their chance to go out.
   */
  public Future<Void> flushed(Vertx vertx, long maxMs) {
    Promise<Void> done = Promise.promise();
    long deadline = System.currentTimeMillis() + maxMs;
    vertx.setPeriodic(0, 50, id -> {
      if (sinks.stream().allMatch(s -> s.size() == 0) || System.currentTimeMillis() >= deadline) {
        vertx.cancelTimer(id);
        done.tryComplete();
      }
    });
    return done.future();
  }

  /** The node stops: what waits is not sent. */
  public void stop() {
    sinks.forEach(WebhookSink::stop);
    http.close();
  }

  @Override
  public void roomStarted(String room, long seq, String mode, String media) {
    send("room_started", room, seq, new JsonObject().put("mode", mode).put("media", media));
  }

  @Override
  public void roomFinished(String room, long seq) {
    send("room_finished", room, seq, new JsonObject());
  }

  @Override
  public void peerJoined(String room, long seq, String peer, String role) {
    send("peer_joined", room, seq, new JsonObject().put("peer", peer).put("role", role));
  }

  @Override
  public void peerLeft(String room, long seq, String peer, String reason) {
    send("peer_left", room, seq, new JsonObject().put("peer", peer).put("reason", reason));
  }

  @Override
  public void peerState(String room, long seq, String peer, JsonObject state) {
    send("peer_state", room, seq, new JsonObject().put("peer", peer).put("state", state.copy()));
  }

  @Override
  public void publishStarted(String room, long seq, String peer) {
    send("publish_started", room, seq, new JsonObject().put("peer", peer));
  }

  @Override
  public void publishStopped(String room, long seq, String peer) {
    send("publish_stopped", room, seq, new JsonObject().put("peer", peer));
  }

  private void send(String event, String room, long seq, JsonObject fields) {
    if (!events.contains(event)) {
      return;
    }
    String id = UUID.randomUUID().toString();
    JsonObject body = new JsonObject().put("id", id).put("event", event).put("at", System.currentTimeMillis())
        .put("node", node).put("room", room).put("seq", seq).mergeIn(fields);
    WebhookSink.Event e = new WebhookSink.Event(id, body.encode());
    sinks.forEach(s -> s.offer(e));
  }
}
