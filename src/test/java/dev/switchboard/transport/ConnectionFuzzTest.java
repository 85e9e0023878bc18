package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.switchboard.Node;
import dev.switchboard.auth.RoomTokens;
import dev.switchboard.config.Config;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.Decoded;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.registry.Keys;
import dev.switchboard.testing.FuzzJson;
import dev.switchboard.testing.TestCluster;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of a {@link Connection}'s message handling on a real node (real Redis,
 * real rooms), with a fake socket in place of the network: each input is a short script of text
 * frames (valid, mangled and junk), binary frames, pongs, socket errors, heartbeats and pauses,
 * fed to a fresh connection on one of the node's event loops. A resident peer sits in the room the
 * script mostly joins, so relays, broadcasts and state changes have somebody to reach.
 *
 * <p>After each input: nothing escaped a handler, every frame the server wrote is a JSON object
 * with a string type, no error or close reason names a Java class or shows a stack trace, no
 * message id was answered more often than it was sent, and once the socket is gone the node holds
 * exactly the peers, connections and Redis members it held before.
 *
 * <p>{@code mvn verify} runs this on its seeds (regression mode, the files under
 * {@code src/test/resources/dev/switchboard/transport/ConnectionFuzzTestInputs/frames/}), then fuzzes
 * it for a bounded time in a surefire execution of its own (see the pom).
 */
class ConnectionFuzzTest {

  private static final String ROOM = "fuzz-room";
  private static final String RESIDENT = "resident";
  /** The peer id the script joins as, most of the time (a fixed one: inputs replay the same way). */
  private static final String SELF = "me";
  private static final long WAIT_MS = 5000;
  private static final Set<Integer> CLOSE_CODES = Set.of(1000, 1001, 1002, 1007, 1008, 1009, 1011, 4400, 4401,
      4403, 4408, 4409, 4410, 4429, 4503);
  private static final Set<String> ERROR_CODES = new LinkedHashSet<>();
  /** What the resident may receive: it sends nothing, so it gets no ack, error, pong or close. */
  private static final Set<String> RESIDENT_TYPES = Set.of("peer-joined", "peer-left", "peer-state", "offer",
      "answer", "candidate", "message");

  static {
    for (ErrorCode c : ErrorCode.values()) {
      ERROR_CODES.add(c.wire());
    }
  }

  private static TestCluster cluster;
  private static Node node;
  private static SocketServices services;
  private static Config.Limits limits;
  private static Keys keys;
  private static Codec codec;
  /** Two event loops: the script's connection and the resident's are on different ones, as in a node. */
  private static Context fuzzContext;
  private static Context residentContext;
  private static FakeSocket resident;
  private static final ConcurrentLinkedQueue<Throwable> uncaught = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void startNode() throws Exception {
    cluster = TestCluster.start(1, Map.of(
        // A relay whose answer is lost holds a leave for at most this long.
        "limits-ack-timeout", "1s",
        // A script of a dozen frames can run into the rate limit.
        "limits-rate", "200",
        "limits-rate-burst", "10"));
    node = cluster.node(0);
    limits = node.config().limits();
    keys = new Keys(node.config().redisPrefix());
    codec = new Codec(limits.metaBytes(), limits.stateBytes());
    // The node's own services, as its SignalingVerticle builds them (with an outbound budget of
    // this test's, so that it can check the budget returns to zero).
    // No placement: the fuzzed sockets never meet a full node.
    services = new SocketServices(node.config(), node.sessions(), codec, node.record(),
        RoomTokens.create(node.vertx(), node.config().auth()), node.refusals(),
        new IpLimits(1_000_000, 1_000_000, 1_000_000),
        new dev.switchboard.auth.Origins(node.config().access().allowedOrigins(), node.config().publicUrl()),
        new OutboundBudget(limits.nodeOutboundBytes()), null, new SocketDrain());
    node.vertx().exceptionHandler(uncaught::add);
    fuzzContext = node.vertx().getOrCreateContext();
    residentContext = contextOnAnotherLoop(fuzzContext);
    fuzzContext.exceptionHandler(uncaught::add);
    residentContext.exceptionHandler(uncaught::add);
    resident = FakeSocket.open(residentContext);
    resident.text(new JsonObject().put("type", "join").put("room", ROOM).put("peer", RESIDENT).encode());
    await(() -> resident.types().contains("welcome"), "the resident's welcome");
    resident.clear();
  }

  /** A context of the node's on another event loop than {@code other}'s, if there is one. */
  private static Context contextOnAnotherLoop(Context other) throws Exception {
    String otherThread = threadOf(other);
    Context c = null;
    for (int i = 0; i < 8; i++) {
      // A context made from a thread outside Vert.x stays on that thread's event loop: a new
      // thread gets the next one.
      CompletableFuture<Context> made = new CompletableFuture<>();
      new Thread(() -> made.complete(node.vertx().getOrCreateContext())).start();
      c = made.get(WAIT_MS, TimeUnit.MILLISECONDS);
      if (!threadOf(c).equals(otherThread)) {
        break;
      }
    }
    return c;
  }

  private static String threadOf(Context c) throws Exception {
    CompletableFuture<String> name = new CompletableFuture<>();
    c.runOnContext(v -> name.complete(Thread.currentThread().getName()));
    return name.get(WAIT_MS, TimeUnit.MILLISECONDS);
  }

  @AfterAll
  static void stopNode() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * One script. Every wait in it is bounded (by {@link #WAIT_MS}); the timeout is the backstop
   * for a handler that never returns (while fuzzing, libFuzzer's {@code -timeout}).
   */
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  @FuzzTest(maxDuration = "25s")
  void frames(FuzzedDataProvider data) throws Exception {
    List<Step> script = script(data);
    try {
      run(script);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nscript:\n" + describe(script), e);
    }
  }

  // --- the script ---

  /** One thing that happens to the socket. */
  sealed interface Step {
  }

  /**
   * A text frame. Its text is what goes over the wire: UTF-8, so an unpaired surrogate the
   * generator made up is already '?' (as a browser would send it).
   */
  record Text(String text) implements Step {
    Text {
      text = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }
  }

  record Binary(byte[] data) implements Step {
  }

  /**
   * A message in several frames: an ASCII start, then continuation frames of raw bytes (a
   * character may be split between frames; the bytes may not be UTF-8 at all); the last one final
   * unless {@code finished} is false.
   */
  record Fragments(boolean binary, String first, List<byte[]> rest, boolean finished) implements Step {
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("Fragments[" + (binary ? "binary" : "text") + ", " + FuzzJson.abbreviate(first));
      for (byte[] part : rest) {
        b.append(" | ").append(FuzzJson.abbreviate(new String(part, StandardCharsets.UTF_8)));
      }
      return b.append(finished ? "]" : " ...unfinished]").toString();
    }
  }

  record Pong() implements Step {
  }

  /** What the WebSocket layer reports: a corrupt frame, a message too large, or an I/O error. */
  record SocketError(int kind) implements Step {
  }

  /** The verticle's heartbeat tick; {@code stale}: as if the client had been silent past the pong timeout. */
  record Heartbeat(boolean stale) implements Step {
  }

  /** Time passes: Redis answers, acks time out, while more frames may follow. */
  record Pause(int ms) implements Step {
  }

  static List<Step> script(FuzzedDataProvider d) {
    List<Step> steps = new ArrayList<>();
    if (d.consumeInt(0, 3) != 0) {
      steps.add(new Text(validJoin(d).encode()));
    }
    int n = d.consumeInt(0, 12);
    for (int i = 0; i < n && d.remainingBytes() > 0; i++) {
      steps.add(step(d));
    }
    return steps;
  }

  private static Step step(FuzzedDataProvider d) {
    int kind = d.consumeInt(0, 20);
    if (kind < 14) {
      JsonObject m = switch (kind) {
        case 0, 1 -> relay(d);
        case 2, 3 -> message(d);
        case 4, 5 -> state(d);
        case 6 -> withId(d, new JsonObject().put("type", "leave"));
        case 7, 8 -> withId(d, new JsonObject().put("type", "ping"));
        case 9 -> join(d);
        default -> random(d);
      };
      if (d.consumeInt(0, 3) == 0) {
        // A field the server must ignore (and never pass on as the sender's).
        m.put(d.pickValue(List.of("from", "peer", "type2", "x")), FuzzJson.value(d, 1));
      }
      String text = m.encode();
      return new Text(d.consumeInt(0, 4) == 0 ? FuzzJson.mangle(d, text) : text);
    }
    return switch (kind) {
      case 14 -> new Text(d.consumeString(120));
      case 15 -> new Binary(d.consumeBytes(16));
      case 20 -> fragments(d);
      case 16 -> new Pong();
      case 17 -> new SocketError(d.consumeInt(0, 4));
      case 18 -> new Heartbeat(d.consumeBoolean());
      default -> new Pause(d.consumeInt(0, 30));
    };
  }

  private static Fragments fragments(FuzzedDataProvider d) {
    boolean binary = d.consumeInt(0, 3) == 0;
    JsonObject m = switch (d.consumeInt(0, 3)) {
      case 0 -> relay(d);
      case 1 -> message(d);
      case 2 -> state(d);
      default -> withId(d, new JsonObject().put("type", "ping"));
    };
    byte[] bytes = m.encode().getBytes(StandardCharsets.UTF_8);
    if (d.consumeInt(0, 3) == 0 && bytes.length > 0) {
      // Not UTF-8 any more (or still, by chance).
      bytes[d.consumeInt(0, bytes.length - 1)] = d.consumeByte();
    }
    int ascii = 0;
    while (ascii < bytes.length && bytes[ascii] >= 0) {
      ascii++;
    }
    int cut = d.consumeInt(0, Math.min(ascii, bytes.length));
    String first = new String(bytes, 0, cut, StandardCharsets.US_ASCII);
    List<byte[]> rest = new ArrayList<>();
    int at = cut;
    int parts = d.consumeInt(1, 4);
    for (int i = 0; i < parts && at < bytes.length; i++) {
      int end = i == parts - 1 ? bytes.length : d.consumeInt(at, bytes.length);
      rest.add(Arrays.copyOfRange(bytes, at, end));
      at = end;
    }
    return new Fragments(binary, first, rest, d.consumeInt(0, 5) != 0);
  }

  /** A join the server accepts (unless the peer id is taken): most scripts start with one. */
  private static JsonObject validJoin(FuzzedDataProvider d) {
    JsonObject j = new JsonObject().put("type", "join").put("room", d.consumeInt(0, 4) != 0 ? ROOM : "fuzz-other");
    if (d.consumeInt(0, 4) != 0) {
      j.put("peer", SELF);
    }
    if (d.consumeBoolean()) {
      j.put("meta", new JsonObject().put("name", d.consumeString(16)));
    }
    if (d.consumeBoolean()) {
      j.put("id", d.consumeInt(0, 1000));
    }
    return j;
  }

  /** A join of any sort: valid, with wrong fields, for the resident's peer id, in another room. */
  private static JsonObject join(FuzzedDataProvider d) {
    JsonObject j = new JsonObject().put("type", "join");
    j.put("room", d.consumeInt(0, 2) != 0 ? ROOM : FuzzJson.id(d, List.of(ROOM, "fuzz-other")));
    switch (d.consumeInt(0, 5)) {
      case 0, 1, 2 -> j.put("peer", SELF);
      case 3 -> {
        // no peer: the server picks one
      }
      case 4 -> j.put("peer", RESIDENT);
      default -> j.put("peer", FuzzJson.id(d, List.of(SELF, RESIDENT)));
    }
    if (d.consumeBoolean()) {
      j.put("meta", d.consumeInt(0, 5) != 0 ? FuzzJson.object(d, 2) : FuzzJson.value(d, 1));
    }
    if (d.consumeInt(0, 3) == 0) {
      j.put("role", d.pickValue(List.of("peer", "viewer", "presenter", "admin", "")));
    }
    if (d.consumeInt(0, 5) == 0) {
      j.put(d.consumeBoolean() ? "token" : "resume", FuzzJson.value(d, 0));
    }
    return withId(d, j);
  }

  private static JsonObject relay(FuzzedDataProvider d) {
    String type = d.pickValue(List.of("offer", "answer", "candidate"));
    JsonObject r = new JsonObject().put("type", type).put("to", target(d));
    if (type.equals("candidate")) {
      r.put("candidate", d.consumeInt(0, 4) != 0 ? FuzzJson.object(d, 1) : FuzzJson.value(d, 1));
    } else {
      r.put("sdp", d.consumeInt(0, 4) != 0 ? d.consumeString(100) : FuzzJson.value(d, 1));
    }
    return withId(d, r);
  }

  private static JsonObject message(FuzzedDataProvider d) {
    JsonObject m = new JsonObject().put("type", "message");
    if (d.consumeBoolean()) {
      m.put("to", target(d));
    }
    if (d.consumeInt(0, 7) != 0) {
      m.put("data", FuzzJson.value(d, 3));
    }
    return withId(d, m);
  }

  private static JsonObject state(FuzzedDataProvider d) {
    JsonObject s = new JsonObject().put("type", "state");
    if (d.consumeBoolean()) {
      s.put("audio", d.consumeInt(0, 5) != 0 ? d.consumeBoolean() : FuzzJson.value(d, 0));
    }
    if (d.consumeBoolean()) {
      s.put("video", d.consumeInt(0, 5) != 0 ? d.consumeBoolean() : FuzzJson.value(d, 0));
    }
    if (d.consumeBoolean()) {
      s.put("data", d.consumeInt(0, 5) != 0 ? FuzzJson.object(d, 2) : FuzzJson.value(d, 1));
    }
    return withId(d, s);
  }

  private static JsonObject random(FuzzedDataProvider d) {
    JsonObject o = new JsonObject().put("type", d.consumeBoolean() ? d.consumeString(12)
        : d.pickValue(List.of("join", "offer", "answer", "candidate", "message", "state", "leave", "ping", "welcome")));
    int n = d.consumeInt(0, 3);
    for (int i = 0; i < n; i++) {
      o.put(d.pickValue(List.of("room", "peer", "to", "sdp", "candidate", "data", "audio", "video", "meta", "role",
          "id", "type")), FuzzJson.value(d, 2));
    }
    return o;
  }

  private static String target(FuzzedDataProvider d) {
    return switch (d.consumeInt(0, 4)) {
      case 0, 1 -> RESIDENT;
      case 2 -> SELF;
      case 3 -> "ghost";
      default -> FuzzJson.id(d, List.of(RESIDENT, SELF));
    };
  }

  private static JsonObject withId(FuzzedDataProvider d, JsonObject m) {
    Object id = FuzzJson.messageId(d);
    if (id != null) {
      m.put("id", id);
    }
    return m;
  }

  private static String describe(List<Step> script) {
    StringBuilder b = new StringBuilder();
    for (Step s : script) {
      b.append("  ").append(s instanceof Text t ? "text " + FuzzJson.abbreviate(t.text()) : s.toString()).append('\n');
    }
    return b.toString();
  }

  // --- running it ---

  private void run(List<Step> script) throws Exception {
    assertNoUncaught("before this input");
    assertTrue(!resident.closed, () -> "the resident was closed: " + resident.closes);
    int peersBefore = node.sessions().active();
    int roomsBefore = node.rooms().size();
    long connectionsBefore = node.record().connections();
    resident.clear();

    FakeSocket ws = FakeSocket.open(fuzzContext);
    List<String> sent = new ArrayList<>();
    Set<List<String>> members = new LinkedHashSet<>();
    for (Step step : script) {
      if (step instanceof Text t) {
        sent.add(t.text());
        Decoded decoded = codec.decode(t.text());
        boolean join = decoded instanceof Decoded.Ok ok && ok.message() instanceof ClientMessage.Join;
        if (join) {
          ClientMessage.Join j = (ClientMessage.Join) ((Decoded.Ok) decoded).message();
          if (j.peer() != null && !(j.room().equals(ROOM) && j.peer().equals(RESIDENT))) {
            members.add(List.of(j.room(), j.peer()));
          }
        }
        int before = ws.frameCount();
        ws.text(t.text());
        if (join) {
          // A join is answered: welcome, an error, or a close (Redis answers within its timeout).
          await(() -> ws.frameCount() > before || ws.closed, "an answer to " + t.text());
        }
      } else if (step instanceof Binary b) {
        ws.binary(b.data());
      } else if (step instanceof Fragments f) {
        if (!f.binary() && f.finished()) {
          // What the message says, if it gets through (decoded leniently: counting an id too many is harmless).
          ByteArrayOutputStream whole = new ByteArrayOutputStream();
          whole.writeBytes(f.first().getBytes(StandardCharsets.US_ASCII));
          f.rest().forEach(whole::writeBytes);
          sent.add(whole.toString(StandardCharsets.UTF_8));
        }
        ws.fragments(f);
      } else if (step instanceof Pong) {
        ws.onLoop(() -> ws.pong.handle(Buffer.buffer()));
      } else if (step instanceof SocketError e) {
        Throwable err = switch (e.kind()) {
          case 0 -> new CorruptedWebSocketFrameException(WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "bad UTF-8");
          case 1 -> new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR, "bad frame");
          case 2 -> new CorruptedWebSocketFrameException(WebSocketCloseStatus.MESSAGE_TOO_BIG, "frame too large");
          case 3 -> new IllegalStateException("WebSocket message exceeds the max message size");
          default -> new IOException("Connection reset by peer");
        };
        ws.onLoop(() -> ws.exception.handle(err));
      } else if (step instanceof Heartbeat h) {
        long at = Connection.now() + (h.stale() ? limits.pongTimeout().toMillis() + 1000 : 0);
        ws.onLoop(() -> ws.connection.heartbeat(at));
      } else if (step instanceof Pause p) {
        Thread.sleep(p.ms());
      }
    }
    // Whatever happened, the client goes away (if the server has not closed the socket already).
    ws.disconnect();
    await(() -> ws.closeFired && ws.gone, "the connection to notice its socket closed");
    // Its peer leaves (in this node and in Redis), and the node is back where it was.
    await(() -> node.sessions().active() == peersBefore && node.rooms().size() == roomsBefore
        && node.record().connections() == connectionsBefore && services.outbound().bytes() == 0,
        "the node to forget the connection (peers " + peersBefore + ", rooms " + roomsBefore + ", connections "
            + connectionsBefore + ")");
    for (String frame : ws.frames()) {
      JsonObject w = FuzzJson.serverFrame(frame);
      if ("welcome".equals(w.getString("type")) && w.getString("peer") != null) {
        members.add(List.of(w.getString("room"), w.getString("peer")));
      }
    }
    for (List<String> m : members) {
      await(() -> cluster.redis(Command.HEXISTS, keys.roomPeers(m.get(0)), m.get(1)).toInteger() == 0,
          "Redis to forget " + m.get(1) + " in " + m.get(0));
    }

    assertNoUncaught("while handling this input");
    checkFrames(ws, sent);
    checkResident();
  }

  private static void checkFrames(FakeSocket ws, List<String> sent) {
    assertTrue(ws.writesAfterClose.isEmpty(), () -> "frames written after close: " + ws.writesAfterClose);
    Map<Object, Integer> ids = new HashMap<>();
    for (String text : sent) {
      Decoded d = codec.decode(text);
      Object id = d instanceof Decoded.Ok ok ? ok.message().id() : ((Decoded.Rejected) d).id();
      if (id != null) {
        ids.merge(id, 1, Integer::sum);
      }
    }
    Map<Object, Integer> answers = new HashMap<>();
    int welcomes = 0;
    for (String frame : ws.frames()) {
      JsonObject m = FuzzJson.serverFrame(frame);
      String type = m.getString("type");
      switch (type) {
        case "error" -> {
          assertTrue(m.getValue("code") instanceof String c && ERROR_CODES.contains(c), () -> "error code in " + frame);
          assertTrue(m.getValue("message") instanceof String, () -> "error message in " + frame);
          FuzzJson.assertNoJavaLeak(m.getString("message"), "the error " + FuzzJson.abbreviate(frame), sent);
        }
        case "welcome" -> {
          welcomes++;
          assertTrue(Ids.isValid(m.getString("peer")) && Ids.isValid(m.getString("room")), () -> "welcome " + frame);
        }
        case "offer", "answer", "candidate", "message" -> assertTrue(Ids.isValid(m.getString("from")),
            () -> "a relayed frame without a valid from: " + frame);
        default -> {
        }
      }
      if ((type.equals("ack") || type.equals("error") || type.equals("pong")) && m.getValue("id") != null) {
        Object id = m.getValue("id") instanceof Number n ? (Object) n.longValue() : m.getValue("id");
        answers.merge(id, 1, Integer::sum);
      }
    }
    assertTrue(welcomes <= 1, "more than one welcome");
    answers.forEach((id, count) -> assertTrue(count <= ids.getOrDefault(id, 0),
        () -> "id " + id + " answered " + count + " times but sent " + ids.getOrDefault(id, 0) + " times: "
            + ws.frames()));
    assertTrue(ws.closes.size() <= 1, () -> "closed more than once: " + ws.closes);
    for (Object[] close : ws.closes) {
      int code = ((Number) close[0]).intValue();
      String reason = (String) close[1];
      assertTrue(CLOSE_CODES.contains(code), () -> "close code " + code);
      assertTrue(reason == null || reason.getBytes(StandardCharsets.UTF_8).length <= 123,
          () -> "a close reason longer than a close frame holds: " + reason);
      if (reason != null) {
        FuzzJson.assertNoJavaLeak(reason, "the close reason", sent);
      }
    }
  }

  private static void checkResident() {
    assertTrue(!resident.closed, () -> "the resident was closed: " + resident.closes);
    for (String frame : resident.frames()) {
      JsonObject m = FuzzJson.serverFrame(frame);
      String type = m.getString("type");
      assertTrue(RESIDENT_TYPES.contains(type), () -> "the resident, which sent nothing, got " + frame);
      if (Set.of("offer", "answer", "candidate", "message").contains(type)) {
        assertTrue(Ids.isValid(m.getString("from")), () -> "relayed without a valid from: " + frame);
        assertTrue(!m.containsKey("to") || RESIDENT.equals(m.getValue("to")),
            () -> "the resident got a message for another peer: " + frame);
      }
    }
    resident.clear();
  }

  private static void assertNoUncaught(String when) {
    Throwable t = uncaught.poll();
    if (t != null) {
      AssertionError e = new AssertionError("an exception escaped a handler " + when + ": " + t, t);
      uncaught.forEach(e::addSuppressed);
      uncaught.clear();
      throw e;
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + WAIT_MS + "ms waiting for " + what);
      }
      Thread.sleep(1);
    }
  }

  /**
   * A {@link ServerWebSocket} without a network: it keeps the handlers the connection registers,
   * records the frames written and the close, and completes every write at once.
   */
  static final class FakeSocket implements InvocationHandler {

    private final Context context;
    final ServerWebSocket proxy;
    Connection connection;
    volatile Handler<WebSocketFrame> frameHandler;
    volatile Handler<String> text;
    volatile Handler<Buffer> binary;
    volatile Handler<Buffer> pong;
    volatile Handler<Void> closeHandler;
    volatile Handler<Throwable> exception;
    private final List<String> written = new ArrayList<>();
    final List<String> writesAfterClose = new ArrayList<>();
    final List<Object[]> closes = new ArrayList<>();
    volatile boolean closed;
    volatile boolean closeFired;
    volatile boolean gone;

    private FakeSocket(Context context) {
      this.context = context;
      this.proxy = (ServerWebSocket) Proxy.newProxyInstance(ServerWebSocket.class.getClassLoader(),
          new Class<?>[] {ServerWebSocket.class}, this);
    }

    /** A new connection on {@code context}, over a fake socket. */
    static FakeSocket open(Context context) throws Exception {
      FakeSocket ws = new FakeSocket(context);
      ws.onLoop(() -> ws.connection = new Connection(services, ws.proxy, c -> ws.gone = true));
      assertNotNull(ws.connection, "the connection was not built");
      return ws;
    }

    /** Runs {@code r} on the socket's event loop and waits for it; whatever it throws is recorded. */
    void onLoop(Runnable r) throws InterruptedException, ExecutionException {
      CompletableFuture<Void> done = new CompletableFuture<>();
      context.runOnContext(v -> {
        try {
          r.run();
        } catch (Throwable t) {
          uncaught.add(t);
        } finally {
          done.complete(null);
        }
      });
      try {
        done.get(WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("the event loop did not run a task within " + WAIT_MS + "ms", e);
      }
    }

    /**
     * A text message in one frame: to the frame handler, if the connection installed one, else
     * to the text message handler.
     */
    void text(String frame) throws InterruptedException, ExecutionException {
      onLoop(() -> {
        if (frameHandler != null) {
          frameHandler.handle(WebSocketFrame.textFrame(frame, true));
        } else {
          text.handle(frame);
        }
      });
    }

    void binary(byte[] data) throws InterruptedException, ExecutionException {
      onLoop(() -> {
        if (frameHandler != null) {
          frameHandler.handle(WebSocketFrame.binaryFrame(Buffer.buffer(data), true));
        } else {
          binary.handle(Buffer.buffer(data));
        }
      });
    }

    /**
     * A fragmented message, one frame per event-loop task as frames arrive. Without a frame
     * handler, Vert.x itself would reassemble it (and decode text leniently): so does this.
     */
    void fragments(Fragments f) throws InterruptedException, ExecutionException {
      if (frameHandler == null) {
        if (!f.finished()) {
          return;
        }
        Buffer whole = Buffer.buffer(f.first().getBytes(StandardCharsets.US_ASCII));
        f.rest().forEach(whole::appendBytes);
        onLoop(() -> {
          if (f.binary()) {
            binary.handle(whole);
          } else {
            text.handle(whole.toString(StandardCharsets.UTF_8));
          }
        });
        return;
      }
      boolean single = f.rest().isEmpty() && f.finished();
      Buffer head = Buffer.buffer(f.first().getBytes(StandardCharsets.US_ASCII));
      onLoop(() -> frameHandler.handle(f.binary() ? WebSocketFrame.binaryFrame(head, single)
          : WebSocketFrame.textFrame(f.first(), single)));
      for (int i = 0; i < f.rest().size(); i++) {
        boolean last = i == f.rest().size() - 1 && f.finished();
        Buffer part = Buffer.buffer(f.rest().get(i));
        onLoop(() -> frameHandler.handle(WebSocketFrame.continuationFrame(part, last)));
      }
    }

    /** The client goes away: the socket closes and the close handler runs (once). */
    void disconnect() throws InterruptedException, ExecutionException {
      onLoop(() -> {
        closed = true;
        fireClose();
      });
    }

    private void fireClose() {
      if (!closeFired) {
        closeFired = true;
        closeHandler.handle(null);
      }
    }

    synchronized int frameCount() {
      return written.size();
    }

    synchronized List<String> frames() {
      return List.copyOf(written);
    }

    synchronized void clear() {
      written.clear();
    }

    List<String> types() {
      return frames().stream().map(f -> new JsonObject(f).getString("type")).toList();
    }

    @Override
    @SuppressWarnings("unchecked")
    public Object invoke(Object self, Method method, Object[] args) {
      switch (method.getName()) {
        case "frameHandler" -> frameHandler = (Handler<WebSocketFrame>) args[0];
        case "textMessageHandler" -> text = (Handler<String>) args[0];
        case "binaryMessageHandler" -> binary = (Handler<Buffer>) args[0];
        case "pongHandler" -> pong = (Handler<Buffer>) args[0];
        case "closeHandler" -> closeHandler = (Handler<Void>) args[0];
        case "exceptionHandler" -> exception = (Handler<Throwable>) args[0];
        case "writeTextMessage" -> {
          synchronized (this) {
            (closed ? writesAfterClose : written).add((String) args[0]);
          }
          return Future.succeededFuture();
        }
        case "close" -> {
          synchronized (this) {
            closes.add(new Object[] {args != null && args.length > 0 ? args[0] : (short) 1000,
                args != null && args.length > 1 ? args[1] : null});
          }
          closed = true;
          // As a real socket: the close handler runs once the close handshake is over, later.
          context.runOnContext(v -> fireClose());
          return Future.succeededFuture();
        }
        case "isClosed" -> {
          return closed;
        }
        case "toString" -> {
          return "FakeSocket@" + Integer.toHexString(System.identityHashCode(self));
        }
        case "hashCode" -> {
          return System.identityHashCode(self);
        }
        case "equals" -> {
          return self == args[0];
        }
        default -> {
        }
      }
      Class<?> type = method.getReturnType();
      if (type.isInstance(self)) {
        return self;
      } else if (type == Future.class) {
        return Future.succeededFuture();
      } else if (type == boolean.class) {
        return false;
      } else if (type == int.class || type == long.class || type == short.class || type == byte.class
          || type == char.class || type == float.class || type == double.class) {
        return defaultPrimitive(type);
      }
      return null;
    }

    private static Object defaultPrimitive(Class<?> type) {
      if (type == int.class) {
        return 0;
      } else if (type == long.class) {
        return 0L;
      } else if (type == short.class) {
        return (short) 0;
      } else if (type == byte.class) {
        return (byte) 0;
      } else if (type == char.class) {
        return (char) 0;
      } else if (type == float.class) {
        return 0f;
      }
      return 0d;
    }
  }
}
