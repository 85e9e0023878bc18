package dev.switchboard.webhooks;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One webhook URL's deliveries: the events for it in a bounded queue, POSTed one at a time in
 * the order they came (so a room's events arrive in order), each tried again with backoff until
 * the receiver takes it (2xx) or refuses it for good (4xx but 408 and 429). A full queue drops
 * the new event, counted and logged: a receiver that is down never slows signaling, and its
 * backlog is bounded. Its own event loop; {@link #offer} may be called from any thread.
 */
final class WebhookSink {

  private static final Logger log = LoggerFactory.getLogger(WebhookSink.class);
  static final long FIRST_BACKOFF_MS = 250;
  /** Log every this many drops (and the first): a receiver that is down would flood the log. */
  static final int LOG_EVERY_DROPS = 1000;

  /** One event as sent: its delivery id (the same on every try) and its JSON body. */
  record Event(String id, String body) {
  }

  /** What the sink reports: each event's outcome, each failed try. */
  interface Outcomes {
    void delivered();

    void retried();

    void dropped(String why);
  }

  private final Vertx vertx;
  private final Context context;
  private final HttpClient http;
  private final String url;
  private final String secret;
  private final int max;
  private final long timeoutMs;
  private final long maxBackoffMs;
  private final Outcomes outcomes;
  /** Events waiting, oldest first; on the sink's loop only. */
  private final ArrayDeque<Event> queue = new ArrayDeque<>();
  /** Events offered and not done yet, counted where they are offered: the bound holds across threads. */
  private final AtomicInteger size = new AtomicInteger();
  private final AtomicInteger drops = new AtomicInteger();
  private boolean sending;
  private long backoffMs;
  private boolean stopped;

  WebhookSink(Vertx vertx, HttpClient http, String url, String secret, int max, long timeoutMs, long maxBackoffMs,
              Outcomes outcomes) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.http = http;
    this.url = url;
    this.secret = secret;
    this.max = max;
    this.timeoutMs = timeoutMs;
    this.maxBackoffMs = maxBackoffMs;
    this.outcomes = outcomes;
  }

  /** Events waiting or being sent. */
  int size() {
    return size.get();
  }

  /** Queues {@code e}, or drops it (counted, logged now and then) when the queue is full. */
  void offer(Event e) {
    if (size.incrementAndGet() > max) {
      size.decrementAndGet();
      outcomes.dropped("queue_full");
      int n = drops.incrementAndGet();
      if (n == 1 || n % LOG_EVERY_DROPS == 0) {
        log.atWarn().addKeyValue("url", url).addKeyValue("queue", max).addKeyValue("dropped", n)
            .log("webhook queue full: events dropped (the receiver is down or slow)");
      }
      return;
    }
    context.runOnContext(v -> {
      queue.add(e);
      pump();
    });
  }

  /** Stops sending: what is queued is not sent. */
  void stop() {
    context.runOnContext(v -> stopped = true);
  }

  private void pump() {
    Event e = queue.peek();
    if (sending || stopped || e == null) {
      return;
    }
    sending = true;
    String signature = Signature.sign(secret, System.currentTimeMillis() / 1000, e.body());
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
        .setConnectTimeout(timeoutMs).setIdleTimeout(timeoutMs)
        .putHeader("Content-Type", "application/json")
        .putHeader(Signature.HEADER, signature)
        .putHeader("Switchboard-Delivery", e.id());
    http.request(options)
        .compose(req -> req.send(Buffer.buffer(e.body())))
        .compose(resp -> resp.body().map(ignored -> resp.statusCode()))
        .onComplete(ar -> {
          sending = false;
          int status = ar.succeeded() ? ar.result() : 0;
          if (status >= 200 && status < 300) {
            done();
            outcomes.delivered();
            backoffMs = 0;
          } else if (status >= 400 && status < 500 && status != 408 && status != 429) {
            done();
            outcomes.dropped("refused");
            log.atWarn().addKeyValue("url", url).addKeyValue("status", status).addKeyValue("delivery", e.id())
                .log("webhook refused by its receiver: not sent again");
          } else {
            retry(e, ar.succeeded() ? "status " + status : String.valueOf(ar.cause().getMessage()));
            return;
          }
          pump();
        });
  }

  private void done() {
    queue.poll();
    size.decrementAndGet();
  }

  private void retry(Event e, String why) {
    outcomes.retried();
    boolean first = backoffMs == 0;
    backoffMs = first ? FIRST_BACKOFF_MS : Math.min(backoffMs * 2, maxBackoffMs);
    (first ? log.atWarn() : log.atDebug()).addKeyValue("url", url).addKeyValue("delivery", e.id())
        .addKeyValue("error", why).addKeyValue("retryMs", backoffMs).addKeyValue("waiting", size.get())
        .log("webhook not delivered; trying again");
    vertx.setTimer(backoffMs, t -> pump()); // set on the sink's context: fires there
  }
}
