package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.websocket.WebSocketFrameImpl;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A catalogue of hostile input sent over real WebSockets to a real two-node cluster (real
 * Redis). Every test starts with two honest peers in one room, {@code alice} on node 0 and
 * {@code bob} on node 1. Each hostile frame must get exactly the error (with the repeated
 * {@code id}, when it was readable) or close code that protocol v1 names; and after each test the
 * honest peers must have seen nothing of the attack except the attackers' own
 * {@code peer-joined}/{@code peer-left} (for attackers that joined their room), and must still be
 * able to relay an offer and an answer to each other across the nodes.
 */
class HostileInputTest {

  /** The frame limit, {@code limits.frame-bytes} (default). */
  private static final int FRAME = 65_536;
  /** {@code limits.meta-bytes} and {@code limits.state-bytes} (defaults). */
  private static final int META = 1024;

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    // Default limits (frame 65,536 B, meta 1,024 B, 50 msg/s, bursts of 100), except that a
    // flooder is closed after 1 s over the rate instead of 5 s, to keep the run short.
    cluster = TestCluster.start(2, Map.of("limits-rate-close-after", "1s"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private String room;
  private TestPeer alice;
  private TestPeer bob;
  /** Every socket a test opened besides the honest two; closed after the test. */
  private final List<TestPeer> sockets = new ArrayList<>();
  /** Attackers that joined the honest room: the only ones the honest peers may hear of. */
  private final Set<String> intruders = new LinkedHashSet<>();
  /** Presence events of intruders that an honest peer received while a test read its inbox. */
  private final Map<TestPeer, List<JsonObject>> presence = new HashMap<>();

  @BeforeEach
  void honestPeers() {
    room = newRoom();
    alice = cluster.join(0, room, "alice");
    bob = cluster.join(1, room, "bob");
    assertEquals("bob", alice.expect("peer-joined").getString("peer"));
    presence.put(alice, new ArrayList<>());
    presence.put(bob, new ArrayList<>());
  }

  @AfterEach
  void honestPeersSawNothingAndStillSignal() {
    try {
      for (TestPeer s : sockets) {
        try {
          s.close();
        } catch (Exception ignored) {
          // already closed by the server
        }
      }
      for (TestPeer p : List.of(alice, bob)) {
        String who = p == alice ? "alice" : "bob";
        List<JsonObject> events = presence.get(p);
        long deadline = System.currentTimeMillis() + 5000;
        while (count(events, "peer-left") < intruders.size() && System.currentTimeMillis() < deadline) {
          JsonObject m = poll(p, 100);
          if (m != null) {
            events.add(m);
          }
        }
        events.addAll(Waits.drain(p, 200));
        for (JsonObject m : events) {
          assertTrue(isIntruderPresence(m), () -> who + " received something caused by an attacker: " + m.encode());
        }
        for (String intruder : intruders) {
          List<String> seen = events.stream().filter(m -> intruder.equals(m.getString("peer")))
              .map(m -> m.getString("type")).collect(Collectors.toList());
          assertEquals(List.of("peer-joined", "peer-left"), seen, who + " about " + intruder);
        }
      }
      // The honest pair still signals across the nodes.
      alice.send(new JsonObject().put("type", "offer").put("to", "bob").put("sdp", "v=0 after").put("id", "after-o"));
      JsonObject offer = bob.expect("offer");
      assertEquals("alice", offer.getString("from"));
      assertEquals("v=0 after", offer.getString("sdp"));
      assertEquals("after-o", alice.expect("ack").getString("id"));
      bob.send(new JsonObject().put("type", "answer").put("to", "alice").put("sdp", "v=0 answer").put("id", "after-a"));
      JsonObject answer = alice.expect("answer");
      assertEquals("bob", answer.getString("from"));
      assertEquals("v=0 answer", answer.getString("sdp"));
      assertEquals("after-a", bob.expect("ack").getString("id"));
      alice.expectNothing(100);
      bob.expectNothing(100);
    } finally {
      alice.close();
      bob.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Deep nesting

  @Test
  @DisplayName("deeply nested JSON as the first message: bad-request without id, then 4400")
  void deepNestingFirst() {
    for (String text : deepFrames()) {
      refusedFirst(sockets.size() % 2, text, "bad-request", null);
    }
  }

  @Test
  @DisplayName("deeply nested JSON after join: bad-request without id, the socket stays open, nothing relayed")
  void deepNestingLater() {
    TestPeer m = intruder(0, "nester");
    for (String text : deepFrames()) {
      m.sendRaw(text);
      expectError(m, "bad-request", null);
    }
    // A relay and a room-wide message whose payload nests 20,000 deep (not parsable: no id).
    m.sendRaw("{\"type\":\"message\",\"to\":\"bob\",\"id\":\"n1\",\"data\":"
        + "[".repeat(20_000) + "]".repeat(20_000) + "}");
    expectError(m, "bad-request", null);
    m.sendRaw("{\"type\":\"offer\",\"to\":\"alice\",\"id\":\"n2\",\"sdp\":\"x\",\"junk\":"
        + "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000) + "}");
    expectError(m, "bad-request", null);
    assertAlive(m, "nester-alive");
  }

  @Test
  @DisplayName("legitimately nested data (500 levels) is relayed intact")
  void moderateNestingDelivered() {
    String nested = "[".repeat(500) + "\"core\"" + "]".repeat(500);
    alice.sendRaw("{\"type\":\"message\",\"to\":\"bob\",\"id\":\"deep-ok\",\"data\":" + nested + "}");
    JsonObject got = bob.expect("message");
    assertEquals("alice", got.getString("from"));
    Object data = got.getValue("data");
    for (int i = 0; i < 500; i++) {
      JsonArray a = assertInstanceOf(JsonArray.class, data, "level " + i);
      assertEquals(1, a.size());
      data = a.getValue(0);
    }
    assertEquals("core", data);
    assertEquals("deep-ok", alice.expect("ack").getString("id"));
  }

  private static List<String> deepFrames() {
    List<String> frames = List.of(
        "[".repeat(60_000),
        "[".repeat(30_000) + "]".repeat(30_000),
        "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000),
        "{\"type\":\"join\",\"room\":\"deep\",\"id\":\"deep\",\"meta\":{\"m\":" + "[".repeat(3000)
            + "]".repeat(3000) + "}}");
    for (String f : frames) {
      assertTrue(utf8(f) <= FRAME, "within the frame limit");
    }
    return frames;
  }

  // ---------------------------------------------------------------------------------------------
  // Sizes

  @Test
  @DisplayName("an sdp of 65,000 bytes and a frame of exactly 65,536 bytes (2-byte characters) are relayed intact")
  void largestFramesDelivered() {
    String sdp = "v=0\r\n" + "a".repeat(65_000 - 5);
    alice.send(new JsonObject().put("type", "offer").put("to", "bob").put("sdp", sdp).put("id", "big"));
    JsonObject offer = bob.expect("offer");
    assertEquals("alice", offer.getString("from"));
    assertEquals(sdp, offer.getString("sdp"));
    assertEquals("big", alice.expect("ack").getString("id"));

    String prefix = "{\"type\":\"message\",\"to\":\"alice\",\"id\":\"max\",\"data\":\"";
    String suffix = "\"}";
    int fill = FRAME - utf8(prefix) - utf8(suffix);
    String data = (fill % 2 == 1 ? "x" : "") + "\u00e9".repeat(fill / 2);
    String frame = prefix + data + suffix;
    assertEquals(FRAME, utf8(frame));
    bob.sendRaw(frame);
    JsonObject msg = alice.expect("message");
    assertEquals("bob", msg.getString("from"));
    assertEquals(data, msg.getString("data"));
    assertEquals("max", bob.expect("ack").getString("id"));
  }

  @Test
  @DisplayName("a frame one byte over the limit, counted in bytes, or a fragmented message over it: close 1009")
  void oversizeFramesClose1009() {
    // As the first message: 1009, no error, and no join.
    TestPeer first = connect(0);
    String join = "{\"type\":\"join\",\"room\":\"" + room + "\",\"peer\":\"huge\",\"meta\":{\"x\":\"";
    first.sendRaw(join + "x".repeat(FRAME + 1 - utf8(join) - 3) + "\"}}");
    assertEquals(1009, first.awaitClose());
    assertNull(poll(first, 0), "no error before a 1009");

    // After join, one byte over, addressed to a peer on the same node.
    TestPeer m1 = intruder(1, "big1");
    String prefix = "{\"type\":\"message\",\"to\":\"bob\",\"data\":\"";
    String over = prefix + "x".repeat(FRAME + 1 - utf8(prefix) - 2) + "\"}";
    assertEquals(FRAME + 1, utf8(over));
    m1.sendRaw(over);
    assertEquals(1009, m1.awaitClose());

    // Fewer characters than the limit, more bytes.
    TestPeer m2 = intruder(0, "big2");
    String wide = "{\"type\":\"message\",\"data\":\"" + "\u00e9".repeat(32_800) + "\"}";
    assertTrue(wide.length() < FRAME && utf8(wide) > FRAME);
    m2.sendRaw(wide);
    assertEquals(1009, m2.awaitClose());

    // A message of two fragments, each under the limit, together over it.
    TestPeer m3 = intruder(1, "big3");
    m3.sendFrame(WebSocketFrame.textFrame("{\"type\":\"message\",\"to\":\"alice\",\"data\":\"" + "y".repeat(40_000), false));
    m3.sendFrame(WebSocketFrame.continuationFrame(Buffer.buffer("z".repeat(30_000) + "\"}"), true));
    assertEquals(1009, m3.awaitClose());
    for (TestPeer p : List.of(first, m1, m2, m3)) {
      assertNull(poll(p, 0), "nothing but the close");
    }
  }

  @Test
  @DisplayName("meta and state.data over 1,024 encoded bytes are bad-request; exactly 1,024 is accepted")
  void metaAndStateLimits() {
    // 1,024 bytes exactly: accepted (in a room of its own).
    String exact = "{\"n\":\"" + "x".repeat(META - 8) + "\"}";
    assertEquals(META, utf8(exact));
    TestPeer ok = connect(1);
    ok.sendRaw("{\"type\":\"join\",\"room\":\"" + newRoom() + "\",\"meta\":" + exact + "}");
    ok.expect("welcome");

    String asciiOver = "{\"n\":\"" + "x".repeat(META - 7) + "\"}";
    String wideOver = "{\"n\":\"x" + "\u00e9".repeat((META - 8) / 2) + "\"}";
    String hugeMeta = "{\"n\":\"" + "x".repeat(60_000) + "\"}";
    assertEquals(META + 1, utf8(asciiOver));
    assertEquals(META + 1, utf8(wideOver));
    assertTrue(wideOver.length() < META);
    int i = 0;
    for (String meta : List.of(asciiOver, wideOver, hugeMeta, "\"a string\"", "[1,2]", "7", "true")) {
      refusedFirst(i % 2, "{\"type\":\"join\",\"room\":\"" + room + "\",\"peer\":\"meta" + i
          + "\",\"id\":\"m" + i + "\",\"meta\":" + meta + "}", "bad-request", "m" + i);
      i++;
    }

    // state.data over the limit, or not an object: refused, no peer-state reaches anyone.
    TestPeer m = intruder(0, "stater");
    String stateOver = "{\"d\":\"" + "\u00e9".repeat(META / 2) + "\"}";
    assertTrue(utf8(stateOver) > META);
    m.sendRaw("{\"type\":\"state\",\"id\":\"s1\",\"data\":" + stateOver + "}");
    expectError(m, "bad-request", "s1");
    m.sendRaw("{\"type\":\"state\",\"id\":\"s2\",\"audio\":true,\"data\":[1,2,3]}");
    expectError(m, "bad-request", "s2");
    assertAlive(m, "stater-alive");
  }

  // ---------------------------------------------------------------------------------------------
  // Invalid UTF-8

  @Test
  @DisplayName("invalid UTF-8 in a text frame closes with 1007, before or after join, and nothing is relayed")
  void invalidUtf8Closes1007() {
    byte[][] invalid = {
        {(byte) 0xFF, (byte) 0xFE},                 // never valid
        {(byte) 0xC0, (byte) 0xAF},                 // overlong '/'
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80},    // a UTF-16 surrogate
        {(byte) 0xE2, (byte) 0x82},                 // truncated sequence
    };
    // As the first message, in the room id of a join.
    TestPeer first = connect(0);
    first.sendFrame(textFrame(bytes("{\"type\":\"join\",\"room\":\"r", invalid[1], "\",\"peer\":\"u8\"}")));
    assertEquals(1007, first.awaitClose());

    // After join: in a relayed sdp, in a room-wide message, and split across two fragments.
    TestPeer m1 = intruder(0, "utf8a");
    m1.sendFrame(textFrame(bytes("{\"type\":\"offer\",\"to\":\"bob\",\"id\":\"u1\",\"sdp\":\"", invalid[0], "\"}")));
    assertEquals(1007, m1.awaitClose());
    TestPeer m2 = intruder(1, "utf8b");
    m2.sendFrame(textFrame(bytes("{\"type\":\"message\",\"id\":\"u2\",\"data\":\"", invalid[2], "\"}")));
    assertEquals(1007, m2.awaitClose());
    TestPeer m3 = intruder(1, "utf8c");
    m3.sendFrame(WebSocketFrame.textFrame("{\"type\":\"message\",\"to\":\"alice\",\"data\":\"ok", false));
    m3.sendFrame(WebSocketFrame.continuationFrame(Buffer.buffer(bytes("", invalid[3], "\"}")), true));
    assertEquals(1007, m3.awaitClose());
    for (TestPeer p : List.of(first, m1, m2, m3)) {
      assertNull(poll(p, 0), "nothing but the close");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Identifiers

  private static final List<String> BAD_IDS = List.of(
      "a\u0000b", "a\nb", "tab\t", "\u0007", "caf\u00e9", "r\u202eoom", "\ud83d\ude00", "\uFFFD",
      "", " ", "a b", "a/b", "../x", "{x}", "*", "a:b", "r".repeat(65));

  @Test
  @DisplayName("control characters, non-ASCII, reserved characters and 65-char ids in join: bad-request with the id, 4400")
  void badIdsInJoin() {
    int i = 0;
    for (String bad : BAD_IDS) {
      refusedFirst(i % 2, new JsonObject().put("type", "join").put("room", bad).put("peer", "x").put("id", "r" + i)
          .encode(), "bad-request", "r" + i);
      refusedFirst(i % 2, new JsonObject().put("type", "join").put("room", room).put("peer", bad).put("id", "p" + i)
          .encode(), "bad-request", "p" + i);
      i++;
    }
    // A raw (unescaped) control character is not JSON at all: no id can be read.
    refusedFirst(0, "{\"type\":\"join\",\"room\":\"a\u0001b\",\"id\":\"raw\"}", "bad-request", null);
    // 64 characters is the longest valid id.
    TestPeer ok = connect(1);
    String room64 = "R".repeat(64);
    String peer64 = "p".repeat(63) + UUID.randomUUID().toString().charAt(0);
    ok.send(new JsonObject().put("type", "join").put("room", room64).put("peer", peer64));
    JsonObject welcome = ok.expect("welcome");
    assertEquals(room64, welcome.getString("room"));
    assertEquals(peer64, welcome.getString("peer"));
  }

  @Test
  @DisplayName("bad ids in to after join: bad-request with the id, socket open, nothing delivered")
  void badIdsInTo() {
    TestPeer m = intruder(1, "ida");
    int i = 0;
    for (String bad : List.of("bob\u0000", "bob\n", "b\u00f6b", "bo b", "", "b".repeat(65), "\u202ebob", "bob/..")) {
      String type = i % 3 == 0 ? "offer" : i % 3 == 1 ? "candidate" : "message";
      JsonObject msg = new JsonObject().put("type", type).put("to", bad).put("id", "t" + i);
      if (type.equals("offer")) {
        msg.put("sdp", "x");
      } else if (type.equals("candidate")) {
        msg.put("candidate", new JsonObject());
      } else {
        msg.put("data", "x");
      }
      m.send(msg);
      expectError(m, "bad-request", "t" + i);
      i++;
    }
    assertAlive(m, "ida-alive");
  }

  @Test
  @DisplayName("a join that takes an honest peer's id, from either node, even with a forged resume: peer-id-taken, 4409")
  void peerIdHijack() {
    TestPeer p1 = connect(1);
    p1.send(new JsonObject().put("type", "join").put("room", room).put("peer", "alice").put("id", "h1"));
    expectError(p1, "peer-id-taken", "h1");
    assertEquals(4409, p1.awaitClose());
    TestPeer p2 = connect(0);
    p2.send(new JsonObject().put("type", "join").put("room", room).put("peer", "bob").put("id", "h2")
        .put("resume", "forged-" + UUID.randomUUID()).put("token", "forged"));
    expectError(p2, "peer-id-taken", "h2");
    assertEquals(4409, p2.awaitClose());
  }

  // ---------------------------------------------------------------------------------------------
  // Wrong types and shapes

  @Test
  @DisplayName("wrong JSON shapes and numbers for strings as the first message: bad-request (id when readable), 4400")
  void wrongShapesFirst() {
    String r = "\"" + room + "\"";
    Map<String, Object> cases = new java.util.LinkedHashMap<>();
    cases.put("[]", null);
    cases.put("[{\"type\":\"join\",\"room\":" + r + "}]", null);
    cases.put("\"join\"", null);
    cases.put("null", null);
    cases.put("42", null);
    cases.put("true", null);
    cases.put("", null);
    cases.put("   ", null);
    cases.put("{\"type\":\"join\",\"room\":" + r, null);
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"peer\":\"tr\"} {\"type\":\"ping\"}", null);
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"peer\":\"big\",\"id\":1" + "0".repeat(5000) + "}", null);
    cases.put("{\"type\":5,\"id\":\"w1\"}", "w1");
    cases.put("{\"type\":null,\"id\":\"w2\"}", "w2");
    cases.put("{\"type\":[\"join\"],\"id\":\"w3\",\"room\":" + r + "}", "w3");
    cases.put("{\"type\":{\"join\":1},\"id\":\"w4\",\"room\":" + r + "}", "w4");
    cases.put("{\"id\":\"w5\",\"room\":" + r + "}", "w5");
    cases.put("{\"type\":\"join\",\"room\":12,\"id\":\"w6\"}", "w6");
    cases.put("{\"type\":\"join\",\"room\":[" + r + "],\"id\":\"w7\"}", "w7");
    cases.put("{\"type\":\"join\",\"id\":\"w8\"}", "w8");
    cases.put("{\"type\":\"join\",\"room\":null,\"id\":\"w9\"}", "w9");
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"peer\":7,\"id\":\"w10\"}", "w10");
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"peer\":{},\"id\":\"w11\"}", "w11");
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"token\":5,\"id\":\"w12\"}", "w12");
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"resume\":{},\"id\":\"w13\"}", "w13");
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"role\":5,\"id\":\"w14\"}", "w14");
    cases.put("{\"type\":\"join\",\"room\":" + r + ",\"role\":\"admin\",\"id\":\"w15\"}", "w15");
    int i = 0;
    for (Map.Entry<String, Object> c : cases.entrySet()) {
      refusedFirst(i++ % 2, c.getKey(), "bad-request", c.getValue());
    }
    // A valid message that is not join.
    refusedFirst(1, "{\"type\":\"offer\",\"to\":\"alice\",\"sdp\":\"x\",\"id\":\"w16\"}", "not-joined", "w16");
  }

  @Test
  @DisplayName("wrong JSON shapes and numbers for strings after join: bad-request (id when readable), socket open, nothing relayed")
  void wrongShapesLater() {
    TestPeer m = intruder(0, "wanda");
    for (String text : List.of("[]", "[{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":\"x\"}]", "null", "\"offer\"", "7",
        "", "{", "{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":\"x\"} {\"type\":\"ping\"}",
        "{\"type\":\"ping\",\"id\":1" + "9".repeat(5000) + "}")) {
      m.sendRaw(text);
      expectError(m, "bad-request", null);
    }
    List<String> bad = List.of(
        "{\"type\":5}",
        "{\"type\":[\"offer\"],\"to\":\"bob\",\"sdp\":\"x\"}",
        "{\"type\":null,\"to\":\"bob\",\"sdp\":\"x\"}",
        "{\"to\":\"bob\",\"sdp\":\"x\"}",
        "{\"type\":\"offer\",\"to\":7,\"sdp\":\"x\"}",
        "{\"type\":\"offer\",\"to\":[\"bob\"],\"sdp\":\"x\"}",
        "{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":{}}",
        "{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":5}",
        "{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":null}",
        "{\"type\":\"offer\",\"to\":\"bob\"}",
        "{\"type\":\"offer\",\"sdp\":\"x\"}",
        "{\"type\":\"answer\",\"to\":\"alice\",\"sdp\":[\"v=0\"]}",
        "{\"type\":\"candidate\",\"to\":\"bob\",\"candidate\":\"candidate:1 1 udp\"}",
        "{\"type\":\"candidate\",\"to\":\"bob\",\"candidate\":[]}",
        "{\"type\":\"candidate\",\"to\":\"bob\",\"candidate\":5}",
        "{\"type\":\"candidate\",\"to\":\"bob\"}",
        "{\"type\":\"message\",\"to\":null,\"data\":\"x\"}",
        "{\"type\":\"message\",\"to\":7,\"data\":\"x\"}",
        "{\"type\":\"message\",\"to\":\"bob\"}",
        "{\"type\":\"message\"}",
        "{\"type\":\"state\",\"audio\":\"yes\"}",
        "{\"type\":\"state\",\"video\":1}",
        "{\"type\":\"state\",\"data\":\"x\"}",
        "{\"type\":\"join\",\"room\":12}");
    int i = 0;
    for (String text : bad) {
      String id = "w" + i++;
      m.sendRaw("{\"id\":\"" + id + "\"," + text.substring(1));
      expectError(m, "bad-request", id);
    }
    assertAlive(m, "wanda-alive");
  }

  // ---------------------------------------------------------------------------------------------
  // Types and ids

  @Test
  @DisplayName("unknown types: unknown-type with the id (4400 when first); bad ids: bad-request without id, message dropped")
  void unknownTypesAndBadIds() {
    refusedFirst(0, "{\"type\":\"welcome\",\"id\":\"k1\",\"peer\":\"alice\",\"room\":\"" + room + "\"}", "unknown-type", "k1");
    refusedFirst(1, "{\"type\":\"JOIN\",\"id\":2,\"room\":\"" + room + "\"}", "unknown-type", 2L);
    refusedFirst(0, "{\"type\":\"join\",\"room\":\"" + room + "\",\"peer\":\"longid\",\"id\":\"" + "i".repeat(65) + "\"}",
        "bad-request", null);
    refusedFirst(1, "{\"type\":\"join\",\"room\":\"" + room + "\",\"peer\":\"floatid\",\"id\":1.5}", "bad-request", null);
    refusedFirst(0, "{\"type\":\"join\",\"room\":\"" + room + "\",\"peer\":\"objid\",\"id\":{\"a\":1}}", "bad-request", null);

    TestPeer m = intruder(0, "uma");
    String[][] unknown = {
        {"nope", "u1"}, {"", "u2"}, {"peer-joined", "u3"}, {"welcome", "u4"}, {"Offer", "u5"}, {"ack", "u6"},
        {"error", "u7"}, {"peer-left", "u8"}, {"room-closed", "u9"}, {"__proto__", "u10"}, {"ping ", "u11"},
    };
    for (String[] u : unknown) {
      m.send(new JsonObject().put("type", u[0]).put("id", u[1]).put("to", "bob").put("peer", "alice")
          .put("sdp", "x").put("reason", "kicked"));
      expectError(m, "unknown-type", u[1]);
    }
    m.send(new JsonObject().put("type", "nope").put("id", 9_007_199_254_740_993L));
    expectError(m, "unknown-type", 9_007_199_254_740_993L);

    // Invalid ids, each on a relay to bob that would otherwise go through: dropped, no id.
    for (String badId : List.of("\"" + "i".repeat(65) + "\"", "1.5", "1.0", "1e2", "{}", "{\"id\":\"x\"}", "[1]",
        "true", "false", "9223372036854775808", "-9223372036854775809")) {
      m.sendRaw("{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":\"should not arrive\",\"id\":" + badId + "}");
      expectError(m, "bad-request", null);
    }
    m.sendRaw("{\"type\":\"nope\",\"id\":2.5}");
    expectError(m, "bad-request", null);

    // Valid extremes are repeated as sent.
    String id64 = "i".repeat(64);
    m.send(new JsonObject().put("type", "ping").put("id", id64));
    assertEquals(id64, m.expect("pong").getString("id"));
    m.send(new JsonObject().put("type", "ping").put("id", Long.MIN_VALUE));
    assertEquals(Long.MIN_VALUE, m.expect("pong").getLong("id"));
    m.send(new JsonObject().put("type", "ping").put("id", ""));
    assertEquals("", m.expect("pong").getString("id"));
    m.send(new JsonObject().put("type", "ping").putNull("id"));
    assertFalse(m.expect("pong").containsKey("id"), "id null means no id");
  }

  // ---------------------------------------------------------------------------------------------
  // Binary frames

  @Test
  @DisplayName("binary frames: bad-request without id, never parsed, rate-limited like text, socket stays open")
  void binaryFrames() {
    // A binary frame carrying a perfectly good join is refused and not acted upon, even as the
    // first frame; the socket stays open and a text join then works.
    TestPeer first = connect(1);
    first.sendBinary(Buffer.buffer(new JsonObject().put("type", "join").put("room", room).put("peer", "binbin")
        .put("id", "b0").encode()));
    expectError(first, "bad-request", null);
    first.expectNothing(200);
    assertFalse(first.isClosed());
    first.send(new JsonObject().put("type", "join").put("room", newRoom()).put("peer", "binbin"));
    first.expect("welcome");

    TestPeer m = intruder(0, "binary");
    List<Buffer> payloads = List.of(
        Buffer.buffer(new JsonObject().put("type", "offer").put("to", "alice").put("sdp", "bin").put("id", "b1").encode()),
        Buffer.buffer(new JsonObject().put("type", "message").put("data", "to all").encode()),
        Buffer.buffer(),
        Buffer.buffer(new byte[] {0, 1, 2, (byte) 0xFF, (byte) 0xFE}),
        Buffer.buffer(new byte[60_000]));
    // 150 frames: more than the burst of 100. Binary frames take a rate token like any message,
    // so a client cannot send 64 KiB frames forever: past the burst they are rate-limited.
    for (int i = 0; i < 150; i++) {
      m.sendBinary(payloads.get(i % payloads.size()));
    }
    int refused = 0;
    int limited = 0;
    for (int i = 0; i < 150; i++) {
      JsonObject e = m.expect("error");
      assertNull(e.getValue("id"), e.encode());
      if ("rate-limited".equals(e.getString("code"))) {
        limited++;
      } else {
        assertEquals("bad-request", e.getString("code"), e.encode());
        refused++;
      }
    }
    assertTrue(refused >= 100, "the burst is answered bad-request: " + refused);
    assertTrue(limited >= 1, "frames past the burst are rate-limited: " + limited);
    Waits.sleep(1200); // let the bucket refill before showing the socket is still open
    assertAlive(m, "binary-alive");
  }

  // ---------------------------------------------------------------------------------------------
  // Flood

  @Test
  @DisplayName("10,000 joins on a joined socket: already-joined, then rate-limited, then close 4429")
  void joinFlood() {
    TestPeer m = intruder(1, "flooder");
    String join = "{\"type\":\"join\",\"room\":\"" + room + "\",\"peer\":\"alice\",\"id\":\"j";
    int sent = 0;
    long start = System.currentTimeMillis();
    while (!m.isClosed() && System.currentTimeMillis() - start < 8000) {
      try {
        m.sendRaw(join + sent + "\"}");
      } catch (Exception closing) {
        break;
      }
      sent++;
      if (sent >= 10_000) {
        // All 10,000 went out in less than rate-close-after: keep at it, slowly, until closed.
        Waits.sleep(20);
      } else if (sent % 100 == 0) {
        Waits.sleep(10);
      }
    }
    assertEquals(4429, m.awaitClose(), "closed for the rate after " + sent + " joins");
    List<JsonObject> got = Waits.drain(m, 300);
    assertTrue(got.size() <= sent, got.size() + " answers to " + sent + " joins");
    int alreadyJoined = 0;
    int limited = 0;
    for (int i = 0; i < got.size(); i++) {
      JsonObject e = got.get(i);
      assertEquals("error", e.getString("type"), e.encode());
      assertEquals("j" + i, e.getString("id"), "one answer per join, in order");
      String code = e.getString("code");
      if (code.equals("already-joined")) {
        alreadyJoined++;
      } else {
        assertEquals("rate-limited", code, e.encode());
        assertTrue(i >= 99, "the burst of 100 (the join took one) is answered already-joined: " + e.encode());
        limited++;
      }
    }
    assertTrue(alreadyJoined >= 99, "already-joined: " + alreadyJoined);
    assertTrue(limited > 100, "rate-limited: " + limited);
    assertEquals("rate-limited", got.get(got.size() - 1).getString("code"), "the last answer before 4429");
  }

  // ---------------------------------------------------------------------------------------------
  // Other rooms

  @Test
  @DisplayName("relays to peers of other rooms: peer-not-found (id repeated), and nothing crosses rooms")
  void otherRoomsUnreachable() {
    String other = newRoom();
    TestPeer decoy = other(1, other, "alice");   // same peer id as the honest alice, another room
    TestPeer dora = other(0, other, "dora");
    TestPeer mallory = other(0, other, "mallory");
    assertEquals("dora", decoy.expect("peer-joined").getString("peer"));
    assertEquals("mallory", decoy.expect("peer-joined").getString("peer"));
    assertEquals("mallory", dora.expect("peer-joined").getString("peer"));

    mallory.send(new JsonObject().put("type", "offer").put("to", "bob").put("sdp", "x").put("id", "p1"));
    mallory.send(new JsonObject().put("type", "answer").put("to", "bob").put("sdp", "x").put("id", "p2"));
    mallory.send(new JsonObject().put("type", "candidate").put("to", "bob").putNull("candidate").put("id", "p3"));
    mallory.send(new JsonObject().put("type", "message").put("to", "bob").put("data", "x").put("id", "p4"));
    mallory.send(new JsonObject().put("type", "offer").put("to", "bob").put("sdp", "x"));
    mallory.send(new JsonObject().put("type", "message").put("to", "nobody").put("data", "x").put("id", "p5"));
    Set<Object> ids = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      JsonObject e = mallory.expect("error");
      assertEquals("peer-not-found", e.getString("code"), e.encode());
      ids.add(e.getValue("id"));
    }
    assertEquals(new HashSet<>(java.util.Arrays.asList("p1", "p2", "p3", "p4", "p5", null)), ids);

    // "alice" in mallory's room is the decoy, never the honest alice.
    mallory.send(new JsonObject().put("type", "message").put("to", "alice").put("data", "for the decoy").put("id", "p6"));
    JsonObject toDecoy = decoy.expect("message");
    assertEquals("mallory", toDecoy.getString("from"));
    assertEquals("for the decoy", toDecoy.getString("data"));
    assertEquals("p6", mallory.expect("ack").getString("id"));
    mallory.send(new JsonObject().put("type", "message").put("data", "room-wide").put("id", "p7"));
    assertEquals("room-wide", decoy.expect("message").getString("data"));
    assertEquals("room-wide", dora.expect("message").getString("data"));
    assertEquals("p7", mallory.expect("ack").getString("id"));

    // And from the honest room towards the other one.
    TestPeer ivan = intruder(1, "ivan");
    ivan.send(new JsonObject().put("type", "offer").put("to", "dora").put("sdp", "x").put("id", "q1"));
    expectError(ivan, "peer-not-found", "q1");
    ivan.send(new JsonObject().put("type", "message").put("to", "mallory").put("data", "x").put("id", "q2"));
    expectError(ivan, "peer-not-found", "q2");
    decoy.expectNothing(300);
    dora.expectNothing(50);
    mallory.expectNothing(50);
  }

  // ---------------------------------------------------------------------------------------------
  // Spoofed from

  @Test
  @DisplayName("a spoofed from on offer/answer/candidate/message is replaced by the sender's real id; extra fields dropped")
  void spoofedFrom() {
    TestPeer mallory = intruder(0, "mallory");
    JsonObject extras = new JsonObject().put("peer", "bob").put("node", "n0").put("via", "server")
        .put("reason", "kicked").put("code", "room-closed");
    mallory.send(new JsonObject().put("type", "offer").put("to", "alice").put("sdp", "o").put("from", "bob")
        .put("id", "s1").mergeIn(extras));
    mallory.send(new JsonObject().put("type", "answer").put("to", "bob").put("sdp", "a").put("from", "alice")
        .put("id", "s2").mergeIn(extras));
    mallory.send(new JsonObject().put("type", "candidate").put("to", "bob")
        .put("candidate", new JsonObject().put("candidate", "candidate:1")).put("from", "alice").put("id", "s3"));
    mallory.send(new JsonObject().put("type", "candidate").put("to", "alice").putNull("candidate")
        .put("from", new JsonObject().put("peer", "bob")).put("id", "s4"));
    mallory.send(new JsonObject().put("type", "message").put("to", "alice").put("data", "dm").put("from", "bob")
        .put("id", "s5").mergeIn(extras));
    mallory.send(new JsonObject().put("type", "message").put("data", "all").put("from", "alice").put("id", "s6"));
    TestPeer trudy = intruder(1, "trudy");
    trudy.send(new JsonObject().put("type", "offer").put("to", "alice").put("sdp", "t").put("from", "bob").put("id", "t1"));

    // Per sender, in the order sent; mallory's and trudy's relays may interleave at alice.
    List<JsonObject> atAlice = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      atAlice.add(honest(alice, null));
    }
    assertEquals(List.of(
        new JsonObject().put("type", "offer").put("from", "mallory").put("sdp", "o"),
        new JsonObject().put("type", "candidate").put("from", "mallory").putNull("candidate"),
        new JsonObject().put("type", "message").put("from", "mallory").put("data", "dm").put("to", "alice"),
        new JsonObject().put("type", "message").put("from", "mallory").put("data", "all")),
        atAlice.stream().filter(m -> !"trudy".equals(m.getString("from"))).collect(Collectors.toList()));
    assertEquals(List.of(new JsonObject().put("type", "offer").put("from", "trudy").put("sdp", "t")),
        atAlice.stream().filter(m -> "trudy".equals(m.getString("from"))).collect(Collectors.toList()));
    assertEquals(new JsonObject().put("type", "answer").put("from", "mallory").put("sdp", "a"), honest(bob, "answer"));
    assertEquals(new JsonObject().put("type", "candidate").put("from", "mallory")
        .put("candidate", new JsonObject().put("candidate", "candidate:1")), honest(bob, "candidate"));
    assertEquals(new JsonObject().put("type", "message").put("from", "mallory").put("data", "all"),
        honest(bob, "message"));

    // Acks are not ordered with other frames: trudy's peer-joined may come between mallory's.
    Set<String> acks = new HashSet<>();
    List<JsonObject> toMallory = new ArrayList<>();
    while (acks.size() < 6) {
      JsonObject m = mallory.next();
      if ("ack".equals(m.getString("type"))) {
        acks.add(m.getString("id"));
      } else {
        toMallory.add(m);
      }
    }
    assertEquals(Set.of("s1", "s2", "s3", "s4", "s5", "s6"), acks);
    // mallory is in the room when trudy joins, and hears of that alone: never her own messages.
    toMallory.addAll(Waits.drain(mallory, 100));
    assertEquals(List.of(new JsonObject().put("type", "peer-joined").put("peer", "trudy")
            .put("meta", new JsonObject().put("name", "trudy")).put("state", new JsonObject()).put("role", "peer")),
        toMallory);
    // trudy joined while mallory's room-wide message was on its way. Whether it reaches her
    // depends on which came first at trudy's node (her session, or the message); nothing else does.
    List<JsonObject> toTrudy = new ArrayList<>();
    JsonObject t;
    while (!"ack".equals((t = trudy.next()).getString("type"))) {
      toTrudy.add(t);
    }
    assertEquals("t1", t.getString("id"));
    toTrudy.addAll(Waits.drain(trudy, 100));
    JsonObject all = new JsonObject().put("type", "message").put("from", "mallory").put("data", "all");
    assertTrue(toTrudy.isEmpty() || toTrudy.equals(List.of(all)), toTrudy::toString);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static String newRoom() {
    return "hostile-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private TestPeer connect(int node) {
    TestPeer p = cluster.connect(node);
    sockets.add(p);
    return p;
  }

  /** An attacker that joins the honest room: the honest peers will see its peer-joined/peer-left. */
  private TestPeer intruder(int node, String peer) {
    TestPeer p = cluster.join(node, room, peer);
    sockets.add(p);
    intruders.add(peer);
    return p;
  }

  private TestPeer other(int node, String otherRoom, String peer) {
    TestPeer p = cluster.join(node, otherRoom, peer);
    sockets.add(p);
    return p;
  }

  /** Sends {@code frame} as the first message of a new socket: one error, then close 4400. */
  private void refusedFirst(int node, String frame, String code, Object id) {
    TestPeer p = connect(node);
    p.sendRaw(frame);
    JsonObject e = p.next();
    String shown = frame.length() > 120 ? frame.substring(0, 120) + "..." : frame;
    assertEquals("error", e.getString("type"), () -> shown + " -> " + e.encode());
    assertEquals(code, e.getString("code"), () -> shown + " -> " + e.encode());
    assertId(id, e, shown);
    assertEquals(4400, p.awaitClose(), shown);
    assertNull(poll(p, 0), shown);
  }

  private static void expectError(TestPeer p, String code, Object id) {
    JsonObject e = p.next();
    assertEquals("error", e.getString("type"), e::encode);
    assertEquals(code, e.getString("code"), e::encode);
    assertId(id, e, "");
    assertFalse(e.getString("message", "").isEmpty(), "an error has a message for people");
  }

  private static void assertId(Object id, JsonObject e, String context) {
    if (id == null) {
      assertFalse(e.containsKey("id"), () -> context + " -> " + e.encode() + " must carry no id");
    } else if (id instanceof Number n) {
      Object got = e.getValue("id");
      assertInstanceOf(Number.class, got, () -> context + " -> " + e.encode());
      assertEquals(n.longValue(), ((Number) got).longValue(), () -> context + " -> " + e.encode());
    } else {
      assertEquals(id, e.getValue("id"), () -> context + " -> " + e.encode());
    }
  }

  /** The socket is open and answering: a ping gets its pong, with the id. */
  private static void assertAlive(TestPeer p, String id) {
    p.send(new JsonObject().put("type", "ping").put("id", id));
    JsonObject pong = p.next();
    assertEquals("pong", pong.getString("type"), pong::encode);
    assertEquals(id, pong.getString("id"));
    assertFalse(p.isClosed());
  }

  /**
   * The next message of an honest peer, of {@code type} (any type when null), setting aside
   * intruders' presence events.
   */
  private JsonObject honest(TestPeer p, String type) {
    while (true) {
      JsonObject m = p.next();
      if (isIntruderPresence(m)) {
        presence.get(p).add(m);
        continue;
      }
      if (type != null) {
        assertEquals(type, m.getString("type"), m::encode);
      }
      return m;
    }
  }

  private boolean isIntruderPresence(JsonObject m) {
    String type = m.getString("type");
    if (!"peer-joined".equals(type) && !"peer-left".equals(type)) {
      return false;
    }
    if (!intruders.contains(m.getString("peer"))) {
      return false;
    }
    return "peer-joined".equals(type) || "disconnected".equals(m.getString("reason"));
  }

  private static long count(List<JsonObject> events, String type) {
    return events.stream().filter(m -> type.equals(m.getString("type"))).count();
  }

  private static JsonObject poll(TestPeer p, long ms) {
    try {
      return p.next(Duration.ofMillis(ms));
    } catch (AssertionError none) {
      return null;
    }
  }

  private static int utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static byte[] bytes(String before, byte[] raw, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(raw);
    out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  /** A final text frame of exactly these bytes, valid UTF-8 or not. */
  private static WebSocketFrame textFrame(byte[] payload) {
    return new WebSocketFrameImpl(WebSocketFrameType.TEXT, payload, true);
  }
}
