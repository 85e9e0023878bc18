package dev.switchboard.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("EnvelopeCodec")
class EnvelopeCodecTest {

  private final EnvelopeCodec codec = new EnvelopeCodec();

  private Envelope roundTrip(Envelope e) {
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, e);
    return codec.decodeFromWire(0, buffer);
  }

  private Envelope roundTripAt(byte[] prefix, Envelope e) {
    Buffer buffer = Buffer.buffer().appendBytes(prefix);
    codec.encodeToWire(buffer, e);
    return codec.decodeFromWire(prefix.length, buffer);
  }

  private static final Envelope RELAY = Envelope.relay("room-1", "bob", "alice", 7L, "node-a", 42,
      "{\"type\":\"offer\",\"from\":\"alice\",\"sdp\":\"v=0\"}");

  /** One envelope of each kind, built by the factory methods where there is one. */
  private static List<Envelope> oneOfEachKind() {
    return List.of(
        RELAY,
        Envelope.room("room-1", "alice", "node-a", "{\"type\":\"message\",\"from\":\"alice\",\"data\":1}"),
        Envelope.membership(Envelope.Kind.JOINED, "room-1", "carol", "node-c", 17, "node-c",
            "{\"type\":\"peer-joined\",\"peer\":\"carol\"}"),
        Envelope.membership(Envelope.Kind.LEFT, "room-1", "carol", "node-c", 18, "node-c",
            "{\"type\":\"peer-left\",\"peer\":\"carol\",\"reason\":\"left\"}"),
        Envelope.membership(Envelope.Kind.STATE, "room-1", "carol", "node-c", 19, "node-c",
            "{\"type\":\"peer-state\",\"peer\":\"carol\",\"state\":{}}"),
        Envelope.ack(RELAY, "node-b"),
        Envelope.nack(RELAY, "node-b", "peer-not-found"),
        Envelope.closeRoom("room-1", "node-a", "{\"type\":\"room-closed\",\"reason\":\"x\"}"),
        Envelope.drain("node-a"));
  }

  @Test
  @DisplayName("the sample set covers every kind")
  void samplesCoverAllKinds() {
    Set<Envelope.Kind> kinds = EnumSet.noneOf(Envelope.Kind.class);
    oneOfEachKind().forEach(e -> kinds.add(e.kind()));
    assertEquals(EnumSet.allOf(Envelope.Kind.class), kinds);
  }

  @Test
  @DisplayName("every kind of envelope survives a round trip unchanged")
  void roundTripEveryKind() {
    for (Envelope e : oneOfEachKind()) {
      assertEquals(e, roundTrip(e), e.kind().name());
    }
  }

  @Test
  @DisplayName("every kind decodes unchanged at a non-zero position after other bytes")
  void roundTripAtOffset() {
    byte[] prefix = {(byte) 0xFF, 7, 0, 0, 0, 3, (byte) 0x80};
    for (Envelope e : oneOfEachKind()) {
      assertEquals(e, roundTripAt(prefix, e), e.kind().name());
    }
  }

  @Test
  @DisplayName("null fields come back as null, not as empty strings")
  void nullFields() {
    Envelope e = new Envelope(Envelope.Kind.ACK, "r", null, null, null, null, 0, 0, 0, null);
    Envelope back = roundTripAt(new byte[] {1, 2, 3}, e);
    assertEquals(e, back);
    assertNull(back.peer());
    assertNull(back.from());
    assertNull(back.origin());
    assertNull(back.node());
    assertNull(back.payload());
  }

  @Test
  @DisplayName("all fields null, including the room, round-trip")
  void allNull() {
    Envelope e = new Envelope(Envelope.Kind.ROOM, null, null, null, null, null, 0, 0, 0, null);
    assertEquals(e, roundTrip(e));
  }

  @Test
  @DisplayName("empty strings stay empty strings, distinct from null")
  void emptyStrings() {
    Envelope e = new Envelope(Envelope.Kind.RELAY, "", "", "", "", "", 0, 0, 0, "");
    Envelope back = roundTrip(e);
    assertEquals(e, back);
    assertEquals("", back.payload());
    assertEquals("", back.peer());
  }

  @Test
  @DisplayName("non-ASCII payloads and ids round-trip byte for byte")
  void nonAscii() {
    String payload = "{\"type\":\"message\",\"data\":\"h\u00e9llo \u4e16\u754c \uD83D\uDE80 \u0000 \u00ff\"}";
    Envelope e = Envelope.relay("caf\u00e9", "\u00fcber", "\uD83D\uDC31", 3L, "n\u00f6de", 5, payload);
    Envelope back = roundTripAt(new byte[] {9}, e);
    assertEquals(e, back);
    assertEquals(payload, back.payload());
  }

  @Test
  @DisplayName("strings are length-prefixed by UTF-8 bytes, so multi-byte text does not shift later fields")
  void multiByteDoesNotShiftFields() {
    Envelope e = new Envelope(Envelope.Kind.STATE, "\u4e16\u754c\u4e16\u754c", "\uD83D\uDE80\uD83D\uDE80",
        "a", "b", "c", 3, 4, 5, "\u00e9");
    Envelope back = roundTrip(e);
    assertEquals("a", back.from());
    assertEquals("b", back.origin());
    assertEquals("c", back.node());
    assertEquals("\u00e9", back.payload());
  }

  @Test
  @DisplayName("extreme seq and ref values round-trip")
  void extremeLongs() {
    for (long v : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, -1, 0, 1L << 40}) {
      Envelope e = new Envelope(Envelope.Kind.JOINED, "r", "p", null, "o", "n", v, -v, v ^ 5, "x");
      Envelope back = roundTrip(e);
      assertEquals(v, back.seq());
      assertEquals(-v, back.ref());
      assertEquals(v ^ 5, back.session());
    }
  }

  @Test
  @DisplayName("a large payload round-trips")
  void largePayload() {
    String payload = "x".repeat(70_000) + "\u00e9";
    Envelope e = Envelope.room("r", "a", "o", payload);
    assertEquals(payload, roundTrip(e).payload());
  }

  @Test
  @DisplayName("the encoding is a tag byte, three longs and six length-prefixed strings")
  void wireLayout() {
    Envelope e = new Envelope(Envelope.Kind.NACK, "r", null, null, null, null, 0, 0, 0, "\u00e9");
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, e);
    int expected = 1 + 8 + 8 + 8 + (4 + 1) + 4 * 4 + (4 + "\u00e9".getBytes(StandardCharsets.UTF_8).length);
    assertEquals(expected, buffer.length());
    assertEquals(7, buffer.getByte(0));
  }

  @Test
  @DisplayName("bytes after the envelope do not disturb decoding")
  void trailingBytes() {
    Envelope e = Envelope.ack(RELAY, "node-b");
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, e);
    buffer.appendBytes(new byte[] {1, 2, 3, 4, 5});
    assertEquals(e, codec.decodeFromWire(0, buffer));
  }

  @Test
  @DisplayName("two envelopes written back to back both decode at their positions")
  void backToBack() {
    Envelope first = Envelope.room("r1", "a", "o", "one");
    Envelope second = Envelope.nack(Envelope.relay("r2", "x", "b", 4L, "o1", 2, "{}"), "o2", "unavailable");
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, first);
    int at = buffer.length();
    codec.encodeToWire(buffer, second);
    assertEquals(first, codec.decodeFromWire(0, buffer));
    assertEquals(second, codec.decodeFromWire(at, buffer));
  }

  @Test
  @DisplayName("an unknown kind tag is refused with IllegalArgumentException")
  void unknownTag() {
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, Envelope.ack(RELAY, "o"));
    buffer.setByte(0, (byte) 99);
    assertThrows(IllegalArgumentException.class, () -> codec.decodeFromWire(0, buffer));
  }

  @Test
  @DisplayName("transform() passes the same instance for local delivery")
  void transformIsIdentity() {
    Envelope e = Envelope.ack(RELAY, "o");
    assertSame(e, codec.transform(e));
  }

  @Test
  @DisplayName("the codec has its registered name and no system codec id")
  void nameAndSystemId() {
    assertEquals("sb-envelope", codec.name());
    assertEquals(-1, codec.systemCodecID());
  }

  @Test
  @DisplayName("a batch of every kind survives the wire in order, after a prefix; a corrupt count is refused")
  void batch() {
    EnvelopeBatchCodec batches = new EnvelopeBatchCodec();
    EnvelopeBatch batch = new EnvelopeBatch(oneOfEachKind());
    Buffer buffer = Buffer.buffer().appendBytes(new byte[] {9, 9, 9});
    batches.encodeToWire(buffer, batch);
    assertEquals(batch, batches.decodeFromWire(3, buffer));
    assertSame(batch, batches.transform(batch), "locally a batch is passed by reference");

    Buffer corrupt = Buffer.buffer().appendInt(-1);
    assertThrows(IllegalArgumentException.class, () -> batches.decodeFromWire(0, corrupt));
  }
}
