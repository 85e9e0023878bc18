package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

@DisplayName("Codec and ServerMessage")
class CodecTest {

  private final Codec codec = new Codec(1024, 1024);

  /** Decodes {@code text} and returns the message, failing if it was rejected. */
  private ClientMessage ok(String text) {
    Decoded d = codec.decode(text);
    Decoded.Ok ok = assertInstanceOf(Decoded.Ok.class, d, () -> "expected Ok for " + text + " but got " + d);
    return ok.message();
  }

  /** Decodes {@code text} and returns the rejection, failing if it was accepted. */
  private Decoded.Rejected rejected(String text) {
    Decoded d = codec.decode(text);
    return assertInstanceOf(Decoded.Rejected.class, d, () -> "expected Rejected for " + abbreviate(text) + " but got " + d);
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  private static String repeat(char c, int n) {
    return String.valueOf(c).repeat(n);
  }

  @Test
  @DisplayName("a number too large for a double (it would be relayed as \"Infinity\") is bad-request, with the id")
  void nonFiniteNumbers() {
    for (String payload : List.of("1e999", "-1e999", "[1, {\"x\": 1e400}]", "{\"deep\": [[[-2e308]]]}")) {
      Decoded.Rejected r = rejected("{\"type\":\"message\",\"id\":\"n1\",\"data\":" + payload + "}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code(), payload);
      assertEquals("n1", r.id(), payload);
    }
    rejected("{\"type\":\"state\",\"data\":{\"v\":1e999}}");
    rejected("{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{\"sdpMLineIndex\":1e999}}");
    // Large but finite numbers, and big integers, still pass unchanged.
    ClientMessage.Broadcast b = assertInstanceOf(ClientMessage.Broadcast.class,
        ok("{\"type\":\"message\",\"data\":[1.7e308, 123456789012345678901234567890, -0.0]}"));
    assertEquals(3, ((io.vertx.core.json.JsonArray) b.data()).size());
  }

  @Nested
  @DisplayName("decoding valid client messages")
  class Valid {

    @Test
    @DisplayName("a join with room and peer gives a Join with both, no role (the room's default) and empty meta")
    void joinWithPeer() {
      ClientMessage.Join j = assertInstanceOf(ClientMessage.Join.class,
          ok("{\"type\":\"join\",\"room\":\"room-1\",\"peer\":\"alice_2.x\"}"));
      assertEquals("room-1", j.room());
      assertEquals("alice_2.x", j.peer());
      assertNull(j.role(), "no role: the store gives the room's default");
      assertEquals(new JsonObject(), j.meta());
      assertNull(j.token());
      assertNull(j.resume());
      assertNull(j.id());
      assertEquals("join", j.type());
    }

    @Test
    @DisplayName("a join without peer leaves the peer null, for the server to pick")
    void joinWithoutPeer() {
      ClientMessage.Join j = assertInstanceOf(ClientMessage.Join.class,
          ok("{\"type\":\"join\",\"room\":\"r\"}"));
      assertEquals("r", j.room());
      assertNull(j.peer());
    }

    @Test
    @DisplayName("a join with an explicit null peer is treated as no peer")
    void joinWithNullPeer() {
      ClientMessage.Join j = assertInstanceOf(ClientMessage.Join.class,
          ok("{\"type\":\"join\",\"room\":\"r\",\"peer\":null}"));
      assertNull(j.peer());
    }

    @Test
    @DisplayName("a join carries meta, role, token and resume as sent")
    void joinWithAllFields() {
      ClientMessage.Join j = assertInstanceOf(ClientMessage.Join.class, ok(
          "{\"type\":\"join\",\"id\":\"j1\",\"room\":\"r\",\"peer\":\"p\",\"meta\":{\"name\":\"Ann\",\"n\":3},"
              + "\"role\":\"presenter\",\"token\":\"tok.en\",\"resume\":\"res-123\"}"));
      assertEquals(new JsonObject().put("name", "Ann").put("n", 3), j.meta());
      assertEquals(ClientMessage.Role.PRESENTER, j.role());
      assertEquals("tok.en", j.token());
      assertEquals("res-123", j.resume());
      assertEquals("j1", j.id());
    }

    @Test
    @DisplayName("a join accepts each of the three roles")
    void joinRoles() {
      for (ClientMessage.Role role : ClientMessage.Role.values()) {
        ClientMessage.Join j = assertInstanceOf(ClientMessage.Join.class,
            ok("{\"type\":\"join\",\"room\":\"r\",\"role\":\"" + role.wire() + "\"}"));
        assertEquals(role, j.role());
      }
    }

    @Test
    @DisplayName("a join with ids of exactly 64 characters is accepted")
    void joinMaxLengthIds() {
      String id64 = repeat('a', 64);
      ClientMessage.Join j = assertInstanceOf(ClientMessage.Join.class,
          ok("{\"type\":\"join\",\"room\":\"" + id64 + "\",\"peer\":\"" + id64 + "\"}"));
      assertEquals(id64, j.room());
      assertEquals(id64, j.peer());
    }

    @Test
    @DisplayName("a meta of exactly the limit in encoded bytes is accepted")
    void metaAtLimit() {
      // {"k":"xxx..."} is 8 bytes of overhead.
      String meta = "{\"k\":\"" + repeat('x', 1024 - 8) + "\"}";
      assertEquals(1024, new JsonObject(meta).encode().length());
      ClientMessage.Join j = assertInstanceOf(ClientMessage.Join.class,
          ok("{\"type\":\"join\",\"room\":\"r\",\"meta\":" + meta + "}"));
      assertEquals(1024 - 8, j.meta().getString("k").length());
    }

    @Test
    @DisplayName("an offer gives a Relay of kind OFFER with target and sdp")
    void offer() {
      ClientMessage.Relay r = assertInstanceOf(ClientMessage.Relay.class,
          ok("{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 0.0.0.0\"}"));
      assertEquals(ClientMessage.RelayKind.OFFER, r.kind());
      assertEquals("bob", r.to());
      assertEquals("v=0\r\no=- 1 2 IN IP4 0.0.0.0", r.payload());
      assertEquals("offer", r.type());
    }

    @Test
    @DisplayName("an answer gives a Relay of kind ANSWER with target and sdp")
    void answer() {
      ClientMessage.Relay r = assertInstanceOf(ClientMessage.Relay.class,
          ok("{\"type\":\"answer\",\"to\":\"alice\",\"sdp\":\"v=0\"}"));
      assertEquals(ClientMessage.RelayKind.ANSWER, r.kind());
      assertEquals("alice", r.to());
      assertEquals("v=0", r.payload());
      assertEquals("answer", r.type());
    }

    @Test
    @DisplayName("a candidate with an object gives a Relay whose payload is that object")
    void candidateObject() {
      ClientMessage.Relay r = assertInstanceOf(ClientMessage.Relay.class, ok(
          "{\"type\":\"candidate\",\"to\":\"bob\",\"candidate\":{\"candidate\":\"candidate:1 1 UDP 1 1.2.3.4 5 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}"));
      assertEquals(ClientMessage.RelayKind.CANDIDATE, r.kind());
      assertEquals("bob", r.to());
      JsonObject c = assertInstanceOf(JsonObject.class, r.payload());
      assertEquals("0", c.getString("sdpMid"));
      assertEquals(0, c.getInteger("sdpMLineIndex"));
      assertEquals("candidate", r.type());
    }

    @Test
    @DisplayName("a candidate with an explicit null (end of candidates) gives a Relay with a null payload")
    void candidateNull() {
      ClientMessage.Relay r = assertInstanceOf(ClientMessage.Relay.class,
          ok("{\"type\":\"candidate\",\"to\":\"bob\",\"candidate\":null}"));
      assertEquals(ClientMessage.RelayKind.CANDIDATE, r.kind());
      assertEquals("bob", r.to());
      assertNull(r.payload());
    }

    @Test
    @DisplayName("a message with to gives a Relay of kind MESSAGE carrying the data")
    void targetedMessage() {
      ClientMessage.Relay r = assertInstanceOf(ClientMessage.Relay.class,
          ok("{\"type\":\"message\",\"to\":\"carol\",\"data\":{\"chat\":\"hi\"}}"));
      assertEquals(ClientMessage.RelayKind.MESSAGE, r.kind());
      assertEquals("carol", r.to());
      assertEquals(new JsonObject().put("chat", "hi"), r.payload());
      assertEquals("message", r.type());
    }

    @Test
    @DisplayName("a message without to gives a Broadcast carrying the data")
    void broadcastMessage() {
      ClientMessage.Broadcast b = assertInstanceOf(ClientMessage.Broadcast.class,
          ok("{\"type\":\"message\",\"data\":[1,\"two\",true]}"));
      assertEquals(new JsonArray().add(1).add("two").add(true), b.data());
      assertEquals("message", b.type());
    }

    @Test
    @DisplayName("a message whose data is an explicit null is a Broadcast with null data")
    void broadcastNullData() {
      ClientMessage.Broadcast b = assertInstanceOf(ClientMessage.Broadcast.class,
          ok("{\"type\":\"message\",\"data\":null}"));
      assertNull(b.data());
    }

    @Test
    @DisplayName("a state with audio, video and data gives a State with all three")
    void stateFull() {
      ClientMessage.State s = assertInstanceOf(ClientMessage.State.class,
          ok("{\"type\":\"state\",\"audio\":true,\"video\":false,\"data\":{\"hand\":\"up\"}}"));
      assertEquals(Boolean.TRUE, s.audio());
      assertEquals(Boolean.FALSE, s.video());
      assertEquals(new JsonObject().put("hand", "up"), s.data());
      assertEquals("state", s.type());
    }

    @Test
    @DisplayName("a state with only audio leaves video and data null")
    void statePartial() {
      ClientMessage.State s = assertInstanceOf(ClientMessage.State.class,
          ok("{\"type\":\"state\",\"audio\":false}"));
      assertEquals(Boolean.FALSE, s.audio());
      assertNull(s.video());
      assertNull(s.data());
    }

    @Test
    @DisplayName("a leave gives a Leave")
    void leave() {
      ClientMessage.Leave l = assertInstanceOf(ClientMessage.Leave.class, ok("{\"type\":\"leave\"}"));
      assertNull(l.id());
      assertEquals("leave", l.type());
    }

    @Test
    @DisplayName("a ping gives a Ping")
    void ping() {
      ClientMessage.Ping p = assertInstanceOf(ClientMessage.Ping.class, ok("{\"type\":\"ping\"}"));
      assertNull(p.id());
      assertEquals("ping", p.type());
    }

    @Test
    @DisplayName("a string id is echoed, unchanged, in every kind of decoded message")
    void stringIdEchoed() {
      List<String> frames = List.of(
          "{\"type\":\"join\",\"room\":\"r\",\"id\":\"abc-1\"}",
          "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"x\",\"id\":\"abc-1\"}",
          "{\"type\":\"answer\",\"to\":\"b\",\"sdp\":\"x\",\"id\":\"abc-1\"}",
          "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":null,\"id\":\"abc-1\"}",
          "{\"type\":\"message\",\"to\":\"b\",\"data\":1,\"id\":\"abc-1\"}",
          "{\"type\":\"message\",\"data\":1,\"id\":\"abc-1\"}",
          "{\"type\":\"state\",\"audio\":true,\"id\":\"abc-1\"}",
          "{\"type\":\"leave\",\"id\":\"abc-1\"}",
          "{\"type\":\"ping\",\"id\":\"abc-1\"}");
      for (String f : frames) {
        assertEquals("abc-1", ok(f).id(), f);
      }
    }

    @Test
    @DisplayName("an integer id is echoed as a Long in every kind of decoded message")
    void integerIdEchoed() {
      List<String> frames = List.of(
          "{\"type\":\"join\",\"room\":\"r\",\"id\":42}",
          "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"x\",\"id\":42}",
          "{\"type\":\"answer\",\"to\":\"b\",\"sdp\":\"x\",\"id\":42}",
          "{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":{},\"id\":42}",
          "{\"type\":\"message\",\"to\":\"b\",\"data\":1,\"id\":42}",
          "{\"type\":\"message\",\"data\":1,\"id\":42}",
          "{\"type\":\"state\",\"video\":true,\"id\":42}",
          "{\"type\":\"leave\",\"id\":42}",
          "{\"type\":\"ping\",\"id\":42}");
      for (String f : frames) {
        assertEquals(42L, ok(f).id(), f);
      }
    }

    @Test
    @DisplayName("an integer id beyond the int range is kept exactly as a Long")
    void largeIntegerId() {
      assertEquals(9_007_199_254_740_993L, ok("{\"type\":\"ping\",\"id\":9007199254740993}").id());
    }

    @Test
    @DisplayName("a string id of exactly 64 characters is accepted")
    void stringIdAtLimit() {
      String id = repeat('i', 64);
      assertEquals(id, ok("{\"type\":\"ping\",\"id\":\"" + id + "\"}").id());
    }
  }

  @Nested
  @DisplayName("media messages of sfu rooms")
  class Media {

    @Test
    @DisplayName("publish carries its offer, unpublish nothing, trickle a candidate (or null) of the publish or subscribe connection")
    void valid() {
      assertEquals(new ClientMessage.Publish("p1", "v=0"), ok("{\"type\":\"publish\",\"id\":\"p1\",\"sdp\":\"v=0\"}"));
      assertEquals(new ClientMessage.Unpublish(7L), ok("{\"type\":\"unpublish\",\"id\":7}"));
      assertEquals(new ClientMessage.SubscribeAnswer(null, "v=0"), ok("{\"type\":\"subscribe-answer\",\"sdp\":\"v=0\"}"));
      assertEquals(new ClientMessage.Trickle(null, "subscribe", null),
          ok("{\"type\":\"trickle\",\"pc\":\"subscribe\",\"candidate\":null}"));
      ClientMessage.Trickle t = (ClientMessage.Trickle) ok(
          "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":\"0\"}}");
      assertEquals("c", t.candidate().getString("candidate"));
    }

    @Test
    @DisplayName("a publish without an SDP string, a trickle without a connection or a candidate, are bad-request")
    void invalid() {
      for (String text : List.of("{\"type\":\"publish\"}", "{\"type\":\"publish\",\"sdp\":5}",
          "{\"type\":\"subscribe-answer\"}",
          "{\"type\":\"trickle\",\"candidate\":null}", "{\"type\":\"trickle\",\"pc\":\"send\",\"candidate\":null}",
          "{\"type\":\"trickle\",\"pc\":\"publish\"}", "{\"type\":\"trickle\",\"pc\":\"publish\",\"candidate\":\"x\"}")) {
        assertEquals(ErrorCode.BAD_REQUEST, rejected(text).code(), text);
      }
    }
  }

  @Nested
  @DisplayName("rejecting malformed frames")
  class Malformed {

    @Test
    @DisplayName("text that is not JSON is a bad-request with no id or type")
    void notJson() {
      Decoded.Rejected r = rejected("{\"type\":\"ping\"");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertNull(r.id());
      assertNull(r.type());
      assertNotNull(r.reason());
    }

    @Test
    @DisplayName("plain garbage text is a bad-request")
    void garbage() {
      assertEquals(ErrorCode.BAD_REQUEST, rejected("hello there").code());
    }

    @Test
    @DisplayName("an empty frame is a bad-request")
    void empty() {
      assertEquals(ErrorCode.BAD_REQUEST, rejected("").code());
    }

    @Test
    @DisplayName("a JSON object followed by trailing text is a bad-request")
    void trailingText() {
      assertEquals(ErrorCode.BAD_REQUEST, rejected("{\"type\":\"ping\"} {\"type\":\"ping\"}").code());
    }

    @Test
    @DisplayName("a JSON array is a bad-request: a message must be an object")
    void jsonArray() {
      Decoded.Rejected r = rejected("[{\"type\":\"ping\"}]");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertNull(r.type());
    }

    @Test
    @DisplayName("a JSON number is a bad-request")
    void jsonNumber() {
      assertEquals(ErrorCode.BAD_REQUEST, rejected("42").code());
    }

    @Test
    @DisplayName("a JSON string is a bad-request")
    void jsonString() {
      assertEquals(ErrorCode.BAD_REQUEST, rejected("\"ping\"").code());
    }

    @Test
    @DisplayName("a JSON null is a bad-request")
    void jsonNull() {
      assertEquals(ErrorCode.BAD_REQUEST, rejected("null").code());
    }

    @Test
    @DisplayName("a missing type is a bad-request that still carries the readable id")
    void missingType() {
      Decoded.Rejected r = rejected("{\"id\":\"m1\",\"room\":\"r\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals("m1", r.id());
      assertNull(r.type());
    }

    @Test
    @DisplayName("a type that is not a string is a bad-request with the id and no type")
    void typeNotString() {
      Decoded.Rejected r = rejected("{\"type\":7,\"id\":3}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals(3L, r.id());
      assertNull(r.type());
    }

    @Test
    @DisplayName("an unknown type is unknown-type, carrying the id and the type")
    void unknownType() {
      Decoded.Rejected r = rejected("{\"type\":\"dance\",\"id\":\"u1\"}");
      assertEquals(ErrorCode.UNKNOWN_TYPE, r.code());
      assertEquals("u1", r.id());
      assertEquals("dance", r.type());
    }

    @Test
    @DisplayName("type matching is case-sensitive: JOIN is an unknown type")
    void upperCaseType() {
      Decoded.Rejected r = rejected("{\"type\":\"JOIN\",\"room\":\"r\"}");
      assertEquals(ErrorCode.UNKNOWN_TYPE, r.code());
      assertEquals("JOIN", r.type());
    }

    @Test
    @DisplayName("a join without room is a bad-request carrying id and type join")
    void joinMissingRoom() {
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"id\":9,\"peer\":\"p\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals(9L, r.id());
      assertEquals("join", r.type());
      assertTrue(r.reason().contains("room"), r.reason());
    }

    @Test
    @DisplayName("a room with characters outside [A-Za-z0-9._-] is a bad-request")
    void roomBadChars() {
      for (String room : List.of("a b", "a/b", "caf\u00e9", "", "a:b", "a@b")) {
        Decoded.Rejected r = rejected(new JsonObject().put("type", "join").put("room", room).encode());
        assertEquals(ErrorCode.BAD_REQUEST, r.code(), room);
        assertEquals("join", r.type());
        assertTrue(r.reason().contains("room"), r.reason());
      }
    }

    @Test
    @DisplayName("a room of 65 characters is a bad-request")
    void roomTooLong() {
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"" + repeat('r', 65) + "\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertTrue(r.reason().contains("room"), r.reason());
    }

    @Test
    @DisplayName("a room that is not a string is a bad-request")
    void roomNotString() {
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":12}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertTrue(r.reason().contains("room"), r.reason());
    }

    @Test
    @DisplayName("a peer with an invalid id is a bad-request naming peer")
    void peerBadId() {
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"r\",\"peer\":\"bad peer!\",\"id\":\"x\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals("x", r.id());
      assertEquals("join", r.type());
      assertTrue(r.reason().contains("peer"), r.reason());
    }

    @Test
    @DisplayName("a peer of 65 characters is a bad-request")
    void peerTooLong() {
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"r\",\"peer\":\"" + repeat('p', 65) + "\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertTrue(r.reason().contains("peer"), r.reason());
    }

    @Test
    @DisplayName("a relay without to is a bad-request carrying its type")
    void relayMissingTo() {
      for (String type : List.of("offer", "answer")) {
        Decoded.Rejected r = rejected("{\"type\":\"" + type + "\",\"sdp\":\"v=0\",\"id\":1}");
        assertEquals(ErrorCode.BAD_REQUEST, r.code(), type);
        assertEquals(type, r.type());
        assertEquals(1L, r.id());
        assertTrue(r.reason().contains("to"), r.reason());
      }
      Decoded.Rejected c = rejected("{\"type\":\"candidate\",\"candidate\":null}");
      assertEquals(ErrorCode.BAD_REQUEST, c.code());
      assertEquals("candidate", c.type());
    }

    @Test
    @DisplayName("a relay whose to is not a string is a bad-request")
    void relayToWrongType() {
      for (String to : List.of("5", "true", "{}", "[\"b\"]")) {
        Decoded.Rejected r = rejected("{\"type\":\"offer\",\"to\":" + to + ",\"sdp\":\"v=0\"}");
        assertEquals(ErrorCode.BAD_REQUEST, r.code(), to);
        assertEquals("offer", r.type());
        assertTrue(r.reason().contains("to"), r.reason());
      }
    }

    @Test
    @DisplayName("a targeted message whose to is not a valid id is a bad-request")
    void messageToWrongType() {
      Decoded.Rejected r = rejected("{\"type\":\"message\",\"to\":42,\"data\":1}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals("message", r.type());
    }

    @Test
    @DisplayName("an offer whose sdp is missing or not a string is a bad-request naming sdp")
    void sdpNotString() {
      for (String frame : List.of(
          "{\"type\":\"offer\",\"to\":\"b\"}",
          "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":null}",
          "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":{\"type\":\"offer\"}}",
          "{\"type\":\"answer\",\"to\":\"b\",\"sdp\":12}")) {
        Decoded.Rejected r = rejected(frame);
        assertEquals(ErrorCode.BAD_REQUEST, r.code(), frame);
        assertTrue(r.reason().contains("sdp"), r.reason());
      }
    }

    @Test
    @DisplayName("a candidate message without the candidate field is a bad-request")
    void candidateMissing() {
      Decoded.Rejected r = rejected("{\"type\":\"candidate\",\"to\":\"b\",\"id\":\"c\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals("candidate", r.type());
      assertEquals("c", r.id());
      assertTrue(r.reason().contains("candidate"), r.reason());
    }

    @Test
    @DisplayName("a candidate that is a string is a bad-request")
    void candidateString() {
      Decoded.Rejected r = rejected("{\"type\":\"candidate\",\"to\":\"b\",\"candidate\":\"candidate:1 1 UDP\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertTrue(r.reason().contains("candidate"), r.reason());
    }

    @Test
    @DisplayName("a message without data is a bad-request, targeted or not")
    void messageWithoutData() {
      Decoded.Rejected b = rejected("{\"type\":\"message\",\"id\":5}");
      assertEquals(ErrorCode.BAD_REQUEST, b.code());
      assertEquals("message", b.type());
      assertEquals(5L, b.id());
      assertTrue(b.reason().contains("data"), b.reason());
      Decoded.Rejected t = rejected("{\"type\":\"message\",\"to\":\"b\"}");
      assertEquals(ErrorCode.BAD_REQUEST, t.code());
      assertTrue(t.reason().contains("data"), t.reason());
    }

    @Test
    @DisplayName("a join whose meta is not an object is a bad-request naming meta")
    void metaNotObject() {
      for (String meta : List.of("\"name\"", "[1]", "3", "true")) {
        Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"r\",\"meta\":" + meta + "}");
        assertEquals(ErrorCode.BAD_REQUEST, r.code(), meta);
        assertTrue(r.reason().contains("meta"), r.reason());
      }
    }

    @Test
    @DisplayName("a meta one byte over the limit in encoded bytes is a bad-request")
    void metaOversized() {
      String meta = "{\"k\":\"" + repeat('x', 1024 - 8 + 1) + "\"}";
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"r\",\"id\":\"j\",\"meta\":" + meta + "}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals("j", r.id());
      assertEquals("join", r.type());
      assertTrue(r.reason().contains("meta"), r.reason());
    }

    @Test
    @DisplayName("the meta limit counts UTF-8 bytes, not characters")
    void metaOversizedInBytes() {
      // 600 two-byte characters: 600 chars but 1200 bytes.
      String meta = "{\"k\":\"" + repeat('\u00e9', 600) + "\"}";
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"r\",\"meta\":" + meta + "}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertTrue(r.reason().contains("meta"), r.reason());
    }

    @Test
    @DisplayName("a state whose data is over the limit is a bad-request naming data")
    void stateDataOversized() {
      String data = "{\"k\":\"" + repeat('y', 1100) + "\"}";
      Decoded.Rejected r = rejected("{\"type\":\"state\",\"id\":8,\"data\":" + data + "}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals(8L, r.id());
      assertEquals("state", r.type());
      assertTrue(r.reason().contains("data"), r.reason());
    }

    @Test
    @DisplayName("a state whose data is not an object is a bad-request")
    void stateDataNotObject() {
      Decoded.Rejected r = rejected("{\"type\":\"state\",\"data\":\"x\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertTrue(r.reason().contains("data"), r.reason());
    }

    @Test
    @DisplayName("a state whose audio or video is not a boolean is a bad-request")
    void audioNotBoolean() {
      Decoded.Rejected a = rejected("{\"type\":\"state\",\"audio\":\"yes\"}");
      assertEquals(ErrorCode.BAD_REQUEST, a.code());
      assertEquals("state", a.type());
      assertTrue(a.reason().contains("audio"), a.reason());
      Decoded.Rejected v = rejected("{\"type\":\"state\",\"video\":1}");
      assertEquals(ErrorCode.BAD_REQUEST, v.code());
      assertTrue(v.reason().contains("video"), v.reason());
    }

    @Test
    @DisplayName("a join with an unknown role is a bad-request naming role")
    void badRole() {
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"r\",\"role\":\"admin\",\"id\":2}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertEquals(2L, r.id());
      assertEquals("join", r.type());
      assertTrue(r.reason().contains("role"), r.reason());
    }

    @Test
    @DisplayName("a join whose role is not a string is a bad-request")
    void roleNotString() {
      Decoded.Rejected r = rejected("{\"type\":\"join\",\"room\":\"r\",\"role\":1}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertTrue(r.reason().contains("role"), r.reason());
    }

    @Test
    @DisplayName("a join whose token or resume is not a string is a bad-request")
    void tokenNotString() {
      Decoded.Rejected t = rejected("{\"type\":\"join\",\"room\":\"r\",\"token\":{}}");
      assertEquals(ErrorCode.BAD_REQUEST, t.code());
      assertTrue(t.reason().contains("token"), t.reason());
      Decoded.Rejected s = rejected("{\"type\":\"join\",\"room\":\"r\",\"resume\":5}");
      assertEquals(ErrorCode.BAD_REQUEST, s.code());
      assertTrue(s.reason().contains("resume"), s.reason());
    }

    @Test
    @DisplayName("a string id of 65 characters is a bad-request without id or type")
    void idTooLong() {
      Decoded.Rejected r = rejected("{\"type\":\"ping\",\"id\":\"" + repeat('i', 65) + "\"}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertNull(r.id());
      assertNull(r.type());
      assertTrue(r.reason().contains("id"), r.reason());
    }

    @Test
    @DisplayName("a fractional id is a bad-request without id")
    void idFloat() {
      Decoded.Rejected r = rejected("{\"type\":\"ping\",\"id\":1.5}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertNull(r.id());
    }

    @Test
    @DisplayName("an object, array or boolean id is a bad-request without id")
    void idObject() {
      for (String id : List.of("{\"a\":1}", "[1]", "true")) {
        Decoded.Rejected r = rejected("{\"type\":\"ping\",\"id\":" + id + "}");
        assertEquals(ErrorCode.BAD_REQUEST, r.code(), id);
        assertNull(r.id(), id);
      }
    }

    @Test
    @DisplayName("an integer id beyond the long range is a bad-request without id")
    void idBeyondLong() {
      Decoded.Rejected r = rejected("{\"type\":\"ping\",\"id\":123456789012345678901234567890}");
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
      assertNull(r.id());
    }

    @Test
    @DisplayName("5000 levels of nested arrays are a bad-request, without an exception or stack overflow")
    void deeplyNestedArrays() {
      String text = repeat('[', 5000) + repeat(']', 5000);
      Decoded.Rejected r = rejected(text);
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
    }

    @Test
    @DisplayName("an object with a deeply nested field is a bad-request, without an exception")
    void deeplyNestedInsideObject() {
      String text = "{\"type\":\"message\",\"data\":" + repeat('[', 5000) + repeat(']', 5000) + "}";
      Decoded.Rejected r = rejected(text);
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
    }

    @Test
    @DisplayName("unterminated deep nesting is a bad-request, without an exception")
    void deeplyNestedUnterminated() {
      Decoded.Rejected r = rejected(repeat('{', 1) + "\"a\":" + repeat('[', 100_000));
      assertEquals(ErrorCode.BAD_REQUEST, r.code());
    }
  }

  @Nested
  @DisplayName("encoding server messages")
  class Server {

    @Test
    @DisplayName("relayed() stamps from and the payload field of an offer, without to")
    void relayedOffer() {
      JsonObject out = new JsonObject(ServerMessage.relayed(
          new ClientMessage.Relay("i", ClientMessage.RelayKind.OFFER, "bob", "v=0"), "alice"));
      assertEquals("offer", out.getString("type"));
      assertEquals("alice", out.getString("from"));
      assertEquals("v=0", out.getString("sdp"));
      assertFalse(out.containsKey("to"));
      assertFalse(out.containsKey("id"), "the client's id is not relayed");
    }

    @Test
    @DisplayName("relayed() of an answer puts the sdp under sdp")
    void relayedAnswer() {
      JsonObject out = new JsonObject(ServerMessage.relayed(
          new ClientMessage.Relay(null, ClientMessage.RelayKind.ANSWER, "alice", "v=1"), "bob"));
      assertEquals("answer", out.getString("type"));
      assertEquals("bob", out.getString("from"));
      assertEquals("v=1", out.getString("sdp"));
    }

    @Test
    @DisplayName("relayed() of a null candidate keeps candidate: null on the wire")
    void relayedNullCandidate() {
      JsonObject out = new JsonObject(ServerMessage.relayed(
          new ClientMessage.Relay(null, ClientMessage.RelayKind.CANDIDATE, "bob", null), "alice"));
      assertEquals("candidate", out.getString("type"));
      assertTrue(out.containsKey("candidate"));
      assertNull(out.getValue("candidate"));
      assertEquals("alice", out.getString("from"));
    }

    @Test
    @DisplayName("relayed() of a targeted message includes from, to and data")
    void relayedMessage() {
      JsonObject out = new JsonObject(ServerMessage.relayed(
          new ClientMessage.Relay(1L, ClientMessage.RelayKind.MESSAGE, "carol",
              new JsonObject().put("x", 1)), "dave"));
      assertEquals("message", out.getString("type"));
      assertEquals("dave", out.getString("from"));
      assertEquals("carol", out.getString("to"));
      assertEquals(new JsonObject().put("x", 1), out.getJsonObject("data"));
    }

    @Test
    @DisplayName("a decoded relay re-encodes with the sender stamped as from")
    void decodeThenRelay() {
      ClientMessage.Relay r = assertInstanceOf(ClientMessage.Relay.class,
          ok("{\"type\":\"candidate\",\"to\":\"bob\",\"candidate\":{\"candidate\":\"c\"},\"from\":\"forged\"}"));
      JsonObject out = new JsonObject(ServerMessage.relayed(r, "alice"));
      assertEquals("alice", out.getString("from"));
      assertEquals(new JsonObject().put("candidate", "c"), out.getJsonObject("candidate"));
    }

    @Test
    @DisplayName("error() without id omits the id field")
    void errorWithoutId() {
      JsonObject out = new JsonObject(ServerMessage.error(ErrorCode.PEER_NOT_FOUND, "no such peer", null));
      assertEquals("error", out.getString("type"));
      assertEquals("peer-not-found", out.getString("code"));
      assertEquals("no such peer", out.getString("message"));
      assertFalse(out.containsKey("id"));
    }

    @Test
    @DisplayName("error() with an id repeats it, string or number")
    void errorWithId() {
      assertEquals("a1", new JsonObject(ServerMessage.error(ErrorCode.BAD_REQUEST, "m", "a1")).getValue("id"));
      assertEquals(7L, new JsonObject(ServerMessage.error(ErrorCode.RATE_LIMITED, "m", 7L)).getLong("id"));
    }

    @Test
    @DisplayName("welcome() has type, peer, room, node, mode, media, peers, iceServers and limits")
    void welcome() {
      PeerInfo other = new PeerInfo("bob", new JsonObject().put("name", "Bob"),
          new JsonObject().put("audio", true), ClientMessage.Role.VIEWER);
      JsonArray ice = new JsonArray().add(new JsonObject().put("urls", "stun:stun.example.org"));
      JsonObject limits = new JsonObject().put("rate", 50);
      JsonObject out = new JsonObject(ServerMessage.welcome("alice", "room-1", "node-a",
          List.of(other), ServerMessage.WelcomeRoom.p2p("broadcast"), ice, limits, "tok-1",
          new ServerMessage.Resumed(3L)));
      assertEquals("welcome", out.getString("type"));
      assertEquals("alice", out.getString("peer"));
      assertEquals("room-1", out.getString("room"));
      assertEquals("node-a", out.getString("node"));
      assertEquals("broadcast", out.getString("mode"));
      assertEquals("p2p", out.getString("media"));
      assertFalse(out.containsKey("publishers"), "a p2p room has no media server to publish through");
      assertFalse(out.containsKey("mediaResumed"));
      assertEquals(ice, out.getJsonArray("iceServers"));
      assertEquals(limits, out.getJsonObject("limits"));
      JsonArray peers = out.getJsonArray("peers");
      assertEquals(1, peers.size());
      JsonObject p = peers.getJsonObject(0);
      assertEquals("bob", p.getString("peer"));
      assertEquals("Bob", p.getJsonObject("meta").getString("name"));
      assertEquals(true, p.getJsonObject("state").getBoolean("audio"));
      assertEquals("viewer", p.getString("role"));
      assertEquals("tok-1", out.getString("resume"));
      assertEquals(true, out.getBoolean("resumed"));
      assertEquals(3L, out.getLong("received"));
      assertEquals(12, out.size(), "no unexpected fields: " + out);
    }

    @Test
    @DisplayName("welcome() of an sfu room lists who publishes; resumed, it says whether the media connections stand")
    void welcomeSfu() {
      JsonObject fresh = new JsonObject(ServerMessage.welcome("alice", "r", "n", List.of(),
          new ServerMessage.WelcomeRoom("mesh", "sfu", List.of("bob", "carol"), false), new JsonArray(),
          new JsonObject(), null, null));
      assertEquals("sfu", fresh.getString("media"));
      assertEquals(new JsonArray().add("bob").add("carol"), fresh.getJsonArray("publishers"));
      assertFalse(fresh.containsKey("mediaResumed"), "a fresh join has no media connections yet");
      JsonObject moved = new JsonObject(ServerMessage.welcome("alice", "r", "n", List.of(),
          new ServerMessage.WelcomeRoom("mesh", "sfu", List.of(), false), new JsonArray(), new JsonObject(),
          "tok", new ServerMessage.Resumed(2L)));
      assertEquals(new JsonArray(), moved.getJsonArray("publishers"));
      assertEquals(false, moved.getBoolean("mediaResumed"));
      JsonObject kept = new JsonObject(ServerMessage.welcome("alice", "r", "n", List.of(),
          new ServerMessage.WelcomeRoom("broadcast", "sfu", List.of("p"), true), new JsonArray(), new JsonObject(),
          "tok", new ServerMessage.Resumed(2L)));
      assertEquals(true, kept.getBoolean("mediaResumed"));
      assertEquals("broadcast", kept.getString("mode"));
    }

    @Test
    @DisplayName("welcome() of an empty room has an empty peers array; without a token, no resume field")
    void welcomeEmpty() {
      JsonObject out = new JsonObject(ServerMessage.welcome("alice", "r", "n", List.of(),
          ServerMessage.WelcomeRoom.p2p("mesh"), new JsonArray(), new JsonObject(), null, null));
      assertEquals(new JsonArray(), out.getJsonArray("peers"));
      assertFalse(out.containsKey("resume"), "no token when resume is off");
      assertEquals(false, out.getBoolean("resumed"));
      assertFalse(out.containsKey("received"));
      assertFalse(out.containsKey("nodeLost"));
    }

    @Test
    @DisplayName("welcome() after the holding node died: resumed, nodeLost, and no received count")
    void welcomeAfterNodeDeath() {
      JsonObject out = new JsonObject(ServerMessage.welcome("alice", "r", "n", List.of(),
          ServerMessage.WelcomeRoom.p2p("mesh"), new JsonArray(), new JsonObject(), "tok-2",
          new ServerMessage.Resumed(null)));
      assertEquals(true, out.getBoolean("resumed"));
      assertEquals(true, out.getBoolean("nodeLost"));
      assertFalse(out.containsKey("received"), "the node that counted the client's messages died");
      assertEquals("tok-2", out.getString("resume"));
    }

    @Test
    @DisplayName("pong() repeats the id when there is one and omits it otherwise")
    void pong() {
      assertEquals(3L, new JsonObject(ServerMessage.pong(3L)).getLong("id"));
      JsonObject noId = new JsonObject(ServerMessage.pong(null));
      assertEquals("pong", noId.getString("type"));
      assertFalse(noId.containsKey("id"));
    }

    @Test
    @DisplayName("peerLeft() carries the peer and the reason's wire name")
    void peerLeft() {
      JsonObject out = new JsonObject(ServerMessage.peerLeft("bob", LeaveReason.NODE_LOST));
      assertEquals("peer-left", out.getString("type"));
      assertEquals("bob", out.getString("peer"));
      assertEquals("node-lost", out.getString("reason"));
    }
  }
}
