package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.switchboard.testing.FuzzJson;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of the pure protocol code: {@link Codec#decode} and {@link ServerMessage}.
 *
 * <p>{@code mvn verify} runs each fuzz test on its seeds only (regression mode: the empty input
 * and the files under {@code src/test/resources/dev/switchboard/protocol/CodecFuzzTestInputs/<method>/}),
 * and then fuzzes each one for a bounded time in a surefire execution of its own (see the pom).
 * One input may take at most its {@link Timeout}: on the seeds JUnit enforces it; while fuzzing,
 * Jazzer hands it to libFuzzer ({@code -timeout}), and an input that runs longer is a finding.
 * A crashing input is written under {@code target/jazzer/}; copy it into the inputs directory
 * above to keep it as a regression test.
 */
class CodecFuzzTest {

  private static final int META_BYTES = 1024;
  private static final int STATE_BYTES = 1024;
  /** Generous: decoding one frame of a few KB takes microseconds; this only catches runaway work. */
  private static final long MAX_DECODE_NANOS = 1_000_000_000L;

  private static final Codec CODEC = new Codec(META_BYTES, STATE_BYTES);

  static {
    // Class loading on the first decode (Jackson, Vert.x's codec) is not the codec's time.
    CODEC.decode("{\"type\":\"join\",\"room\":\"r\",\"meta\":{\"a\":[1,2.5,null,true]}}");
    CODEC.decode("not json");
  }

  /**
   * One text frame as it reaches the codec: the bytes of a WebSocket text frame, which the
   * WebSocket layer has already checked are UTF-8 (invalid sequences become U+FFFD here).
   */
  @DictionaryEntries({"\"type\"", "\"join\"", "\"offer\"", "\"answer\"", "\"candidate\"", "\"message\"",
      "\"state\"", "\"leave\"", "\"ping\"", "\"room\"", "\"peer\"", "\"token\"", "\"resume\"", "\"meta\"",
      "\"role\"", "\"presenter\"", "\"viewer\"", "\"to\"", "\"sdp\"", "\"data\"", "\"audio\"", "\"video\"",
      "\"id\"", "\"from\"", "null", "true", "false", "{}", "[]", ":", ",", "\\u0000", "\\ud800",
      "9223372036854775807", "9223372036854775808", "-1", "1e999", "0.5"})
  @Timeout(value = 5, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  @FuzzTest(maxDuration = "15s")
  void decode(byte[] frame) {
    String text = new String(frame, StandardCharsets.UTF_8);
    long start = System.nanoTime();
    Decoded decoded;
    try {
      decoded = CODEC.decode(text);
    } catch (Throwable t) {
      throw new AssertionError("decode threw on " + FuzzJson.abbreviate(text), t);
    }
    long took = System.nanoTime() - start;
    assertTrue(took < MAX_DECODE_NANOS, () -> "decode took " + took / 1_000_000 + "ms on " + FuzzJson.abbreviate(text));
    assertNotNull(decoded, "decode returned null");
    if (decoded instanceof Decoded.Rejected r) {
      checkRejected(r, text);
    } else if (decoded instanceof Decoded.Ok ok) {
      checkAccepted(ok.message(), text);
    } else {
      fail("decode returned neither Ok nor Rejected: " + decoded);
    }
    assertEquals(decoded, CODEC.decode(text), "decoding the same frame twice gave two answers");
  }

  private static void checkRejected(Decoded.Rejected r, String text) {
    assertNotNull(r.code(), () -> "a rejection without a code for " + FuzzJson.abbreviate(text));
    assertTrue(r.code() == ErrorCode.BAD_REQUEST || r.code() == ErrorCode.UNKNOWN_TYPE,
        () -> "the codec answered " + r.code() + " for " + FuzzJson.abbreviate(text));
    assertNotNull(r.reason(), "a rejection without a reason");
    assertTrue(!r.reason().isBlank() && r.reason().length() <= 200 && r.reason().indexOf('\n') < 0,
        () -> "a reason should be one short line: " + FuzzJson.abbreviate(r.reason()));
    // The codec's reasons are its own words: nothing of the input is echoed.
    FuzzJson.assertNoJavaLeak(r.reason(), "the rejection reason", List.of());
    checkMessageId(r.id(), text);
    if (r.code() == ErrorCode.UNKNOWN_TYPE) {
      assertNotNull(r.type(), "unknown-type without the type");
    }
  }

  /** An accepted message must follow the protocol's rules, whatever the fuzzer sent. */
  private static void checkAccepted(ClientMessage m, String text) {
    JsonObject json = assertInstanceOf(JsonObject.class, Json.decodeValue(text),
        () -> "accepted a frame that is not a JSON object: " + FuzzJson.abbreviate(text));
    assertEquals(json.getValue("type"), m.type(), "the message type is the frame's type");
    checkMessageId(m.id(), text);
    Object rawId = json.getValue("id");
    if (rawId != null) {
      assertEquals(rawId instanceof Number n ? (Object) n.longValue() : rawId, m.id(), "the id is the frame's id");
    } else {
      assertNull(m.id(), "an id out of nowhere");
    }
    if (m instanceof ClientMessage.Join j) {
      assertTrue(Ids.isValid(j.room()), () -> "accepted room " + FuzzJson.abbreviate(j.room()));
      assertTrue(j.peer() == null || Ids.isValid(j.peer()), () -> "accepted peer " + FuzzJson.abbreviate(j.peer()));
      // No role (absent or null) is the room's default, which the store picks; a named one is kept.
      Object role = json.getValue("role");
      assertEquals(role, j.role() == null ? null : j.role().wire(), "role");
      assertNotNull(j.meta(), "join without meta");
      assertTrue(utf8(j.meta().encode()) <= META_BYTES, "meta over its limit");
      assertEquals(json.getValue("token"), j.token(), "token");
      assertEquals(json.getValue("resume"), j.resume(), "resume");
    } else if (m instanceof ClientMessage.Relay r) {
      assertTrue(Ids.isValid(r.to()), () -> "accepted relay target " + FuzzJson.abbreviate(r.to()));
      switch (r.kind()) {
        case OFFER, ANSWER -> assertInstanceOf(String.class, r.payload(), "sdp must be a string");
        case CANDIDATE -> assertTrue(r.payload() == null || r.payload() instanceof JsonObject,
            "candidate must be an object or null");
        case MESSAGE -> assertTrue(json.containsKey("data"), "message without data");
        default -> fail("unknown relay kind " + r.kind());
      }
    } else if (m instanceof ClientMessage.Broadcast) {
      assertTrue(!json.containsKey("to") && json.containsKey("data"), "a broadcast is a message with data and no to");
    } else if (m instanceof ClientMessage.State s) {
      assertTrue(s.data() == null || utf8(s.data().encode()) <= STATE_BYTES, "state data over its limit");
    } else if (m instanceof ClientMessage.Publish p) {
      assertEquals(json.getValue("sdp"), p.sdp(), "publish carries its offer as sent");
    } else if (m instanceof ClientMessage.SubscribeAnswer a) {
      assertEquals(json.getValue("sdp"), a.sdp(), "subscribe-answer carries its answer as sent");
    } else if (m instanceof ClientMessage.Trickle t) {
      assertTrue(List.of("publish", "subscribe").contains(t.pc()), "trickle names one of the two connections");
      assertTrue(json.containsKey("candidate") && (t.candidate() == null || json.getValue("candidate") instanceof JsonObject),
          "a trickle's candidate is an object or null");
    } else if (m instanceof ClientMessage.Refresh r) {
      assertEquals(json.getValue("token"), r.token(), "refresh carries its token as sent");
    } else {
      assertTrue(m instanceof ClientMessage.Leave || m instanceof ClientMessage.Ping
          || m instanceof ClientMessage.Unpublish, () -> "unexpected " + m);
    }
    // The message, written out again in its canonical form, decodes to the same message.
    // (Compared as JSON: a number too large for a double comes back as the string "Infinity".)
    String canonical = wire(m).encode();
    Decoded again = CODEC.decode(canonical);
    assertTrue(again instanceof Decoded.Ok ok && wire(ok.message()).encode().equals(canonical),
        () -> "the canonical form " + FuzzJson.abbreviate(canonical) + " of " + FuzzJson.abbreviate(text)
            + " decodes to " + again);
  }

  private static void checkMessageId(Object id, String text) {
    assertTrue(id == null || id instanceof Long
            || (id instanceof String s && s.length() <= Ids.MAX_MESSAGE_ID_LENGTH),
        () -> "message id " + id + " (" + (id == null ? "" : id.getClass().getSimpleName()) + ") from "
            + FuzzJson.abbreviate(text));
  }

  /** The client frame for a decoded message, every field explicit. */
  private static JsonObject wire(ClientMessage m) {
    JsonObject out = new JsonObject().put("type", m.type());
    if (m.id() != null) {
      out.put("id", m.id());
    }
    if (m instanceof ClientMessage.Join j) {
      out.put("room", j.room()).put("peer", j.peer()).put("token", j.token()).put("resume", j.resume())
          .put("meta", j.meta()).put("role", j.role() == null ? null : j.role().wire());
    } else if (m instanceof ClientMessage.Relay r) {
      out.put("to", r.to()).put(r.kind().field(), r.payload());
    } else if (m instanceof ClientMessage.Broadcast b) {
      out.put("data", b.data());
    } else if (m instanceof ClientMessage.State s) {
      out.put("audio", s.audio()).put("video", s.video()).put("data", s.data());
    } else if (m instanceof ClientMessage.Publish p) {
      out.put("sdp", p.sdp());
    } else if (m instanceof ClientMessage.SubscribeAnswer a) {
      out.put("sdp", a.sdp());
    } else if (m instanceof ClientMessage.Trickle t) {
      out.put("pc", t.pc()).put("candidate", t.candidate());
    } else if (m instanceof ClientMessage.Refresh r) {
      out.put("token", r.token());
    }
    return out;
  }

  /**
   * Every server message, built from fuzzed payloads (JSON the fuzzer wrote, or values made up
   * field by field), is one valid JSON object with its type, carries the payload unchanged, and
   * is still valid JSON once sent as UTF-8 (an unpaired surrogate becomes '?' on the wire).
   */
  @Timeout(value = 5, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  @FuzzTest(maxDuration = "10s")
  void serverMessages(FuzzedDataProvider data) {
    String peer = data.consumeString(70);
    String text = data.consumeString(200);
    Object payload = payload(data);
    Object id = FuzzJson.messageId(data);
    ClientMessage.RelayKind kind = data.pickValue(ClientMessage.RelayKind.values());
    List<String> frames = new ArrayList<>();
    JsonObject state = data.consumeBoolean() ? FuzzJson.object(data, 3) : new JsonObject();
    JsonObject meta = payload instanceof JsonObject o ? o : FuzzJson.object(data, 2);
    PeerInfo info = new PeerInfo(peer, meta, state, data.pickValue(ClientMessage.Role.values()));

    String relayed = ServerMessage.relayed(new ClientMessage.Relay(id, kind, text, payload), peer);
    JsonObject r = parse(relayed);
    assertEquals(kind.wire(), r.getString("type"));
    assertEquals(peer, r.getString("from"));
    assertSameJson(payload, r.getValue(kind.field()), relayed);
    if (kind == ClientMessage.RelayKind.MESSAGE) {
      assertEquals(text, r.getString("to"));
    }
    frames.add(relayed);

    String broadcast = ServerMessage.broadcast(payload, peer);
    assertSameJson(payload, parse(broadcast).getValue("data"), broadcast);
    frames.add(broadcast);

    ErrorCode code = data.pickValue(ErrorCode.values());
    String error = ServerMessage.error(code, text, id);
    JsonObject e = parse(error);
    assertEquals(code.wire(), e.getString("code"));
    assertEquals(text, e.getString("message"));
    assertSameJson(id, e.getValue("id"), error);
    frames.add(error);

    String ack = ServerMessage.ack(id);
    assertSameJson(id, parse(ack).getValue("id"), ack);
    frames.add(ack);
    String pong = ServerMessage.pong(id);
    assertSameJson(id, parse(pong).getValue("id"), pong);
    frames.add(pong);

    String joined = ServerMessage.peerJoined(info);
    JsonObject j = parse(joined);
    assertEquals(peer, j.getString("peer"));
    assertSameJson(meta, j.getValue("meta"), joined);
    assertSameJson(state, j.getValue("state"), joined);
    frames.add(joined);
    String peerState = ServerMessage.peerState(peer, state);
    assertSameJson(state, parse(peerState).getValue("state"), peerState);
    frames.add(peerState);
    frames.add(ServerMessage.peerLeft(peer, data.pickValue(LeaveReason.values())));
    frames.add(ServerMessage.roomClosed(text));
    frames.add(ServerMessage.welcome(peer, text, "node-1", List.of(info, info),
        new ServerMessage.WelcomeRoom(text, text, data.consumeBoolean() ? List.of(peer, text) : null,
            data.consumeBoolean()),
        new JsonArray().add(new JsonObject().put("urls", text)), FuzzJson.object(data, 2), text,
        data.consumeBoolean() ? new ServerMessage.Resumed(data.consumeBoolean() ? data.consumeLong(0, Long.MAX_VALUE)
            : null) : null));

    for (String frame : frames) {
      JsonObject parsed = parse(frame);
      assertTrue(FuzzJson.SERVER_TYPES.contains(parsed.getString("type")), () -> "type of " + frame);
      // What the browser gets: the frame as UTF-8 on the wire.
      String onTheWire = new String(frame.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
      FuzzJson.serverFrame(onTheWire);
    }
  }

  /** A relayed payload: JSON the fuzzer wrote (as a client would), or a value made up field by field. */
  private static Object payload(FuzzedDataProvider data) {
    if (data.consumeBoolean()) {
      String text = data.consumeString(300);
      try {
        return Json.decodeValue(text);
      } catch (DecodeException | IllegalStateException e) {
        return text;
      }
    }
    return FuzzJson.value(data, 4);
  }

  private static JsonObject parse(String frame) {
    return FuzzJson.serverFrame(frame);
  }

  /**
   * Same JSON: what was put in and what came back encode alike (a number may come back as
   * another Java type, and a non-finite double is written as a string).
   */
  private static void assertSameJson(Object expected, Object actual, String frame) {
    assertEquals(Json.encode(expected), Json.encode(actual), () -> "payload changed in " + FuzzJson.abbreviate(frame));
  }

  private static int utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
