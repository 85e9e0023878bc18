package dev.switchboard.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.config.Config;
import dev.switchboard.testing.JanusProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The link to a real Janus process: its session, handles, VideoRoom rooms, and every way it fails. */
class JanusLinkTest {

  static final String SECRET = "janus-api-secret-for-tests";
  static final String ADMIN_KEY = "videoroom-admin-key-for-tests";

  Vertx vertx;
  JanusProcess janus;
  final List<JanusLink> links = new ArrayList<>();
  final CompletableFuture<String> down = new CompletableFuture<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    for (JanusLink link : links) {
      link.close().await();
    }
    vertx.close().await();
    if (janus != null) {
      janus.close();
    }
  }

  private JanusLink link(String url, String secret, Duration timeout, Duration keepalive) {
    JanusLink link = new JanusLink(vertx, new Config.Media(url, secret, ADMIN_KEY, timeout, keepalive),
        down::complete);
    links.add(link);
    return link;
  }

  private JanusLink openLink() {
    JanusLink link = link(janus.url(), SECRET, Duration.ofSeconds(2), Duration.ofSeconds(10));
    link.open().await();
    return link;
  }

  private static JanusHandle.Listener quiet() {
    return JanusHandle.Listener.ignoring();
  }

  private static JanusError failure(Future<?> f) {
    Throwable t = assertThrows(Throwable.class, f::await);
    assertTrue(t instanceof JanusError, "a JanusError, not " + t);
    return (JanusError) t;
  }

  @Test
  @DisplayName("a media room is created once (the second create finds it), listed empty, destroyed once")
  void roomLifecycle() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    JanusLink link = openLink();
    assertTrue(link.isUp());
    VideoRooms rooms = new VideoRooms(link.attach(VideoRooms.PLUGIN, "node-a/admin", quiet()).await(), ADMIN_KEY);
    assertEquals(List.of(true, false), List.of(rooms.create("room-1", 1).await(), rooms.create("room-1", 1).await()));
    assertTrue(rooms.exists("room-1").await());
    assertEquals(List.of(), rooms.participants("room-1").await());
    assertEquals(List.of(true, false), List.of(rooms.destroy("room-1").await(), rooms.destroy("room-1").await()));
    assertFalse(rooms.exists("room-1").await());
    assertEquals(JanusError.NO_SUCH_ROOM, failure(rooms.participants("room-1")).code());
  }

  @Test
  @DisplayName("a publisher handle joins a media room under the peer's id; a plugin refusal is a JanusError with its code")
  void publisherJoinsAndPluginErrors() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    JanusLink link = openLink();
    VideoRooms rooms = new VideoRooms(link.attach(VideoRooms.PLUGIN, "node-a/admin", quiet()).await(), ADMIN_KEY);
    rooms.create("room-2", 3).await();
    JanusHandle alice = link.attach(VideoRooms.PLUGIN, "node-a/room-2/alice", quiet()).await();
    JanusHandle.Reply joined = alice.message(new JsonObject().put("request", "join").put("ptype", "publisher")
        .put("room", "room-2").put("id", "alice").put("display", "alice"), null).await();
    assertEquals("joined", joined.data().getString("videoroom"), joined.data().encode());
    assertEquals(List.of(new VideoRooms.Participant("alice", false)), rooms.participants("room-2").await());
    JanusHandle twin = link.attach(VideoRooms.PLUGIN, "node-a/room-2/alice-again", quiet()).await();
    JanusError taken = failure(twin.message(new JsonObject().put("request", "join").put("ptype", "publisher")
        .put("room", "room-2").put("id", "alice"), null));
    assertEquals(List.of(436, true), List.of(taken.code(), taken.plugin()), taken.getMessage());
    JanusError wrongKey = failure(new VideoRooms(alice, "not-the-key").create("room-3", 1));
    assertEquals(433, wrongKey.code(), wrongKey.getMessage());
    alice.detach().await();
    // Janus answers the detach, then its plugin thread takes the participant out of the room.
    long deadline = System.currentTimeMillis() + 3000;
    while (!rooms.participants("room-2").await().isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(List.of(), rooms.participants("room-2").await(), "detaching leaves the room");
  }

  @Test
  @DisplayName("a wrong API secret fails the open with 403, and an unreachable Janus with a clear error")
  void wrongSecretAndUnreachable() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    JanusError wrong = failure(link(janus.url(), "not-the-secret", Duration.ofSeconds(2), Duration.ofSeconds(10))
        .open());
    assertEquals(JanusError.UNAUTHORIZED, wrong.code(), wrong.getMessage());
    JanusError unreachable = failure(link("ws://127.0.0.1:" + dev.switchboard.testing.TestCluster.freePort() + "/",
        SECRET, Duration.ofSeconds(2), Duration.ofSeconds(10)).open());
    assertEquals(JanusError.LINK_DOWN, unreachable.code());
    assertTrue(unreachable.getMessage().contains("cannot reach Janus"), unreachable.getMessage());
  }

  @Test
  @DisplayName("keepalives hold the session past Janus's session_timeout; without them it times out and the link is down")
  void keepalive() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 3);
    CompletableFuture<String> keptDown = new CompletableFuture<>();
    JanusLink kept = new JanusLink(vertx, new Config.Media(janus.url(), SECRET, ADMIN_KEY, Duration.ofSeconds(2),
        Duration.ofSeconds(1)), keptDown::complete); // its own: only the silent link is to go down
    links.add(kept);
    kept.open().await();
    JanusLink silent = link(janus.url(), SECRET, Duration.ofSeconds(2), Duration.ofSeconds(60));
    silent.open().await();
    // Several handles: Janus detaches them on their own threads while it times the session out,
    // and some of those detached events often come before its timeout (see detachedBeforeTimeout).
    int handles = 10;
    CountDownLatch handlesLost = new CountDownLatch(handles);
    List<Future<JanusHandle>> attached = new ArrayList<>();
    for (int i = 0; i < handles; i++) {
      attached.add(silent.attach(VideoRooms.PLUGIN, "node-b/room/peer-" + i, lostCounter(handlesLost)));
    }
    Future.all(attached).await();
    String why = down.get(10, TimeUnit.SECONDS);
    assertTrue(why.contains("timed out"), why);
    assertTrue(handlesLost.await(1, TimeUnit.SECONDS), handlesLost.getCount() + " of " + handles + " handles did not hear it");
    assertFalse(silent.isUp());
    Thread.sleep(2000); // the kept link must stay up for a while: nothing to wait for but time
    assertTrue(kept.isUp() && !keptDown.isDone(), "the link with keepalives is still up");
    assertFalse(new VideoRooms(kept.attach(VideoRooms.PLUGIN, "node-a/admin", quiet()).await(), ADMIN_KEY)
        .exists("nothing").await());
  }

  @Test
  @DisplayName("a handle Janus detached just before its session's timeout hears that it is lost, once")
  void detachedBeforeTimeout() throws Exception {
    // Janus 1.1.2 times a session out on its watchdog thread: it queues a detach to each handle's
    // own thread, then sends timeout. A handle thread that runs first sends detached before it
    // (on a loaded machine, often). A scripted Janus sends them in that order, every time.
    HttpServer fake = vertx.createHttpServer(new HttpServerOptions()
        .setWebSocketSubProtocols(List.of("janus-protocol"))).webSocketHandler(ws -> ws.textMessageHandler(text -> {
          JsonObject request = new JsonObject(text);
          String kind = request.getString("janus");
          long id = "create".equals(kind) ? 1 : "attach".equals(kind) ? 2 : 0;
          ws.writeTextMessage(new JsonObject().put("janus", "success").put("transaction",
              request.getString("transaction")).put("data", new JsonObject().put("id", id)).encode());
          if ("attach".equals(kind)) {
            ws.writeTextMessage(new JsonObject().put("janus", "detached").put("session_id", 1).put("sender", 2).encode());
            ws.writeTextMessage(new JsonObject().put("janus", "timeout").put("session_id", 1).encode());
          }
        })).listen(0, "127.0.0.1").await();
    try {
      JanusLink link = link("ws://127.0.0.1:" + fake.actualPort() + "/", SECRET, Duration.ofSeconds(2),
          Duration.ofSeconds(60));
      link.open().await();
      AtomicInteger lost = new AtomicInteger();
      CountDownLatch heard = new CountDownLatch(1);
      link.attach(VideoRooms.PLUGIN, "node-b/room/peer", new JanusHandle.Listener() {
        @Override
        public void event(JsonObject message) {
        }

        @Override
        public void lost() {
          lost.incrementAndGet();
          heard.countDown();
        }
      }).await();
      assertTrue(down.get(5, TimeUnit.SECONDS).contains("timed out"));
      assertTrue(heard.await(1, TimeUnit.SECONDS), "the handle hears it");
      assertEquals(1, lost.get(), "once");
    } finally {
      fake.close().await();
    }
  }

  /** A listener that counts {@code latch} down when its handle is lost. */
  private static JanusHandle.Listener lostCounter(CountDownLatch latch) {
    return new JanusHandle.Listener() {
      @Override
      public void event(JsonObject message) {
      }

      @Override
      public void lost() {
        latch.countDown();
      }
    };
  }

  @Test
  @DisplayName("a Janus that stops answering: requests fail after the timeout, past the bound at once; one that dies takes the link down")
  void silentThenDeadJanus() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    JanusLink link = openLink();
    VideoRooms rooms = new VideoRooms(link.attach(VideoRooms.PLUGIN, "node-a/admin", quiet()).await(), ADMIN_KEY);
    janus.signal("STOP");
    try {
      List<Future<Boolean>> waiting = new ArrayList<>();
      for (int i = 0; i < JanusLink.MAX_PENDING; i++) {
        waiting.add(rooms.exists("r" + i));
      }
      assertEquals(JanusError.BUSY, failure(rooms.exists("one-too-many")).code());
      assertEquals(JanusError.NO_ANSWER, failure(waiting.get(0)).code());
      assertEquals(JanusError.NO_ANSWER, failure(waiting.get(waiting.size() - 1)).code());
    } finally {
      janus.signal("CONT");
    }
    assertFalse(rooms.exists("after").await(), "answers again once it runs");
    Future<Boolean> inFlight = rooms.exists("in-flight");
    janus.kill();
    String why = down.get(5, TimeUnit.SECONDS);
    assertTrue(why.contains("closed"), why);
    int code = failureOrDone(inFlight);
    assertTrue(code == 0 || code == JanusError.LINK_DOWN, "answered before the kill, or failed by it: " + code);
    assertEquals(JanusError.LINK_DOWN, failure(rooms.exists("after-death")).code());
  }

  /** The code a request failed with, or 0 if it succeeded. */
  private static int failureOrDone(Future<?> f) {
    try {
      f.await();
      return 0;
    } catch (JanusError e) {
      return e.code();
    }
  }
}
