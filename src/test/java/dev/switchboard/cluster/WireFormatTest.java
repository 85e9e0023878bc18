package dev.switchboard.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.switchboard.cluster.Envelope.CloseRoom;
import dev.switchboard.cluster.Envelope.Delivered;
import dev.switchboard.cluster.Envelope.Drain;
import dev.switchboard.cluster.Envelope.PeerJoined;
import dev.switchboard.cluster.Envelope.PeerLeft;
import dev.switchboard.cluster.Envelope.PeerStateChanged;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.cluster.Envelope.Undelivered;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("WireFormat: the node-to-node batches")
class WireFormatTest {

  private static final String ORIGIN = "node-a";
  private static final Relay RELAY = new Relay("room-1", "bob", "alice", 7L, ORIGIN, 42,
      "{\"type\":\"offer\",\"from\":\"alice\",\"sdp\":\"v=0\"}");

  /** One envelope of each kind. */
  private static List<Envelope> oneOfEachKind() {
    return List.of(
        RELAY,
        new RoomMessage("room-1", "alice", "{\"type\":\"message\",\"from\":\"alice\",\"data\":1}"),
        new PeerJoined("room-1", "carol", "node-c", 17, "{\"type\":\"peer-joined\",\"peer\":\"carol\"}"),
        new PeerLeft("room-1", "carol", 18, "{\"type\":\"peer-left\",\"peer\":\"carol\",\"reason\":\"left\"}"),
        new PeerStateChanged("room-1", "carol", 19, "{\"type\":\"peer-state\",\"peer\":\"carol\",\"state\":{}}"),
        Envelope.delivered(RELAY),
        Envelope.undelivered(RELAY, "peer-not-found"),
        new CloseRoom("room-1", "{\"type\":\"room-closed\",\"reason\":\"x\"}"),
        new Drain(),
        new Envelope.Undrain(),
        new Envelope.PeerMoved("room-1", "bob", "node-a", "node-b", 20),
        new Envelope.Claim("room-1", "bob", "node-b", "digest", 12),
        new Envelope.ClaimRefused("room-1", "bob", Envelope.ClaimRefused.TOKEN, "node-a"),
        new Envelope.Handover("room-1", "bob", 5, "[\"o1\",7]"),
        FORWARDED_RELAY,
        new Envelope.Fence("room-1", "bob", "alice", 20, "node-a", "node-b"),
        new Envelope.ClientFrame("room-1", "bob", "{\"type\":\"ack\",\"id\":1}"),
        new Envelope.Kick("room-1", "bob", "{\"type\":\"error\",\"code\":\"kicked\"}"),
        new Envelope.MoveFence("room-1", "bob", "node-a", 21, "[\"node-b\",\"node-c\"]"));
  }

  /** A relay from a third node handed on by this one: it keeps the node its answer goes to. */
  private static final Envelope.Forwarded FORWARDED_RELAY = new Envelope.Forwarded("room-1", "bob",
      new Relay("room-1", "bob", "carol", 3L, "node-c", 9, "{\"type\":\"message\",\"from\":\"carol\"}"));

  /** What of {@code envelopes} the first release's format carries: every kind but those it did not have. */
  private static List<Envelope> legacyKinds(List<Envelope> envelopes) {
    return envelopes.subList(0, 9); // up to Drain: the first release had nothing after it
  }

  private static Batch batch(List<Envelope> envelopes) {
    return Batch.of(ORIGIN, 3, 9, envelopes);
  }

  private static Batch roundTrip(Batch b, int version, byte[] prefix) {
    Buffer buffer = Buffer.buffer().appendBytes(prefix);
    WireFormat.write(buffer, b, version);
    return WireFormat.read(buffer, prefix.length);
  }

  @Test
  @DisplayName("the sample set covers every kind of envelope")
  void samplesCoverAllKinds() {
    Set<Class<?>> kinds = new HashSet<>();
    oneOfEachKind().forEach(e -> kinds.add(e.getClass()));
    assertEquals(Set.of(Envelope.class.getPermittedSubclasses()).size() - 1 + Set.of(
        Envelope.Membership.class.getPermittedSubclasses()).size(), kinds.size());
  }

  @Test
  @DisplayName("a batch of every kind survives both versions unchanged, in order, after a prefix")
  void roundTripEveryKindBothVersions() {
    byte[] prefix = {(byte) 0xFF, 7, 0, 0, 0, 3, (byte) 0x80};
    Batch sent = batch(oneOfEachKind());
    Batch v2 = roundTrip(sent, WireFormat.VERSION, prefix);
    assertEquals(sent.envelopes(), v2.envelopes());
    assertEquals(List.of(ORIGIN, 3, 9L, WireFormat.VERSION, 0),
        List.of(v2.origin(), v2.stream(), v2.seq(), v2.version(), v2.skipped()));
    Batch v1 = roundTrip(sent, WireFormat.LEGACY, prefix);
    assertEquals(legacyKinds(sent.envelopes()), v1.envelopes());
    assertEquals(List.of(ORIGIN, 0, 0L, WireFormat.LEGACY),
        List.of(v1.origin(), v1.stream(), v1.seq(), v1.version()), "the first release's format has no numbering");
  }

  @Test
  @DisplayName("undrain round-trips in the current format; the first release's format leaves it out, not the batch")
  void undrainNewerThanLegacy() {
    Batch sent = batch(List.of(RELAY, new Envelope.Undrain(), new Drain()));
    assertEquals(sent.envelopes(), roundTrip(sent, WireFormat.VERSION, new byte[0]).envelopes());
    assertEquals(List.of(RELAY, new Drain()), roundTrip(sent, WireFormat.LEGACY, new byte[0]).envelopes());
  }

  @Test
  @DisplayName("a forwarded envelope nests its inner entry; an inner kind this node does not know skips the whole entry")
  void forwardedNests() {
    Batch back = roundTrip(batch(List.of(FORWARDED_RELAY, RELAY)), WireFormat.VERSION, new byte[0]);
    assertEquals(List.of(FORWARDED_RELAY, RELAY), back.envelopes());
    assertEquals("node-c", ((Relay) ((Envelope.Forwarded) back.envelopes().get(0)).inner()).origin(),
        "the inner relay's answer goes to its sender's node, not to the forwarding one");
    Buffer buffer = Buffer.buffer();
    WireFormat.write(buffer, batch(List.of(FORWARDED_RELAY, RELAY)), WireFormat.VERSION);
    int innerTag = indexOf(buffer, WireFormat.RELAY, 1 + indexOf(buffer, WireFormat.FORWARDED, 0));
    buffer.setByte(innerTag, (byte) 99); // a kind from a newer release, inside the forwarded entry
    Batch skipped = WireFormat.read(buffer, 0);
    assertEquals(List.of(RELAY), skipped.envelopes());
    assertEquals(1, skipped.skipped());
  }

  /** The position of the first entry tag {@code tag} at or after {@code from}, found by walking the batch's framing. */
  private static int indexOf(Buffer b, byte tag, int from) {
    for (int i = from; i < b.length(); i++) {
      if (b.getByte(i) == tag && i + 5 <= b.length() && b.getInt(i + 1) > 0 && b.getInt(i + 1) < b.length()) {
        return i;
      }
    }
    throw new AssertionError("no entry tagged " + tag);
  }

  @Test
  @DisplayName("null fields come back as null, empty strings as empty strings")
  void nullsAndEmpties() {
    List<Envelope> sent = List.of(new Relay(null, "", null, 0, ORIGIN, 0, ""), new Undelivered("r", null, 1, 2, null));
    for (int version : new int[] {WireFormat.VERSION, WireFormat.LEGACY}) {
      List<Envelope> back = roundTrip(batch(sent), version, new byte[0]).envelopes();
      assertEquals(sent, back, "version " + version);
      assertNull(((Relay) back.get(0)).room());
      assertEquals("", ((Relay) back.get(0)).to());
    }
  }

  @Test
  @DisplayName("non-ASCII text, extreme numbers and a 70 KB frame round-trip byte for byte")
  void unusualValues() {
    String frame = "{\"data\":\"h\u00e9llo \u4e16\u754c \uD83D\uDE80 \u0000 \u00ff\"}" + "x".repeat(70_000);
    List<Envelope> sent = new ArrayList<>();
    sent.add(new Relay("caf\u00e9", "\u00fcber", "\uD83D\uDC31", Long.MIN_VALUE, ORIGIN, Long.MAX_VALUE, frame));
    for (long v : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, -1, 0, 1L << 40}) {
      sent.add(new PeerJoined("\u4e16\u754c", "\uD83D\uDE80", "n\u00f6de", v, "\u00e9"));
    }
    assertEquals(sent, roundTrip(batch(sent), WireFormat.VERSION, new byte[] {9}).envelopes());
    assertEquals(sent, roundTrip(batch(sent), WireFormat.LEGACY, new byte[] {9}).envelopes());
  }

  @Test
  @DisplayName("an entry of a kind this node does not know is skipped by its length and counted; the rest arrive")
  void unknownEntrySkipped() {
    Buffer buffer = Buffer.buffer();
    WireFormat.write(buffer, batch(List.of(RELAY, new Drain())), WireFormat.VERSION);
    // A newer node's entry (tag 200, a body of its own) between the two, and the count raised.
    int countAt = 2 + 4 + ORIGIN.length() + 2 + 8;
    buffer.setShort(countAt, (short) 3);
    int secondAt = buffer.length() - 5;
    Buffer newer = Buffer.buffer().appendByte((byte) 200).appendInt(11).appendString("future-body");
    Buffer spliced = buffer.getBuffer(0, secondAt).appendBuffer(newer).appendBuffer(buffer.getBuffer(secondAt,
        buffer.length()));
    Batch back = WireFormat.read(spliced, 0);
    assertEquals(List.of(RELAY, new Drain()), back.envelopes());
    assertEquals(1, back.skipped());
  }

  @Test
  @DisplayName("fields a newer writer appended to an entry are ignored; fields an older one lacked read as defaults")
  void trailingFieldsBothWays() {
    Relay timed = new Relay(RELAY.room(), RELAY.to(), RELAY.from(), RELAY.session(), ORIGIN, RELAY.ref(),
        RELAY.frame(), 1_796_570_000_123_456L);
    Buffer buffer = Buffer.buffer();
    WireFormat.write(buffer, batch(List.of(timed)), WireFormat.VERSION);
    int entryAt = 2 + 4 + ORIGIN.length() + 2 + 8 + 2;
    int length = buffer.getInt(entryAt + 1);
    // Newer: 12 more bytes at the end of the relay's body.
    Buffer longer = buffer.copy().appendLong(99).appendInt(5);
    longer.setInt(entryAt + 1, length + 12);
    assertEquals(List.of(timed), WireFormat.read(longer, 0).envelopes());
    // The release before: no sending time (the last field) reads as 0, unknown.
    Buffer previous = buffer.getBuffer(0, buffer.length() - 8);
    previous.setInt(entryAt + 1, length - 8);
    assertEquals(RELAY, WireFormat.read(previous, 0).envelopes().get(0));
    // Older still: the body ends before the frame too.
    int frameBytes = 4 + RELAY.frame().getBytes(StandardCharsets.UTF_8).length;
    Buffer shorter = buffer.getBuffer(0, buffer.length() - 8 - frameBytes);
    shorter.setInt(entryAt + 1, length - 8 - frameBytes);
    Relay back = (Relay) WireFormat.read(shorter, 0).envelopes().get(0);
    assertEquals(new Relay(RELAY.room(), RELAY.to(), RELAY.from(), RELAY.session(), ORIGIN, RELAY.ref(), null), back);
  }

  @Test
  @DisplayName("an entry whose length overruns the batch, an unknown version, and a corrupt count are refused")
  void corruptBatchesRefused() {
    Buffer buffer = Buffer.buffer();
    WireFormat.write(buffer, batch(List.of(RELAY)), WireFormat.VERSION);
    int entryAt = 2 + 4 + ORIGIN.length() + 2 + 8 + 2;
    Buffer overrun = buffer.copy().setInt(entryAt + 1, 1 << 20);
    assertThrows(IllegalArgumentException.class, () -> WireFormat.read(overrun, 0));
    Buffer future = buffer.copy().setByte(1, (byte) 3);
    assertThrows(IllegalArgumentException.class, () -> WireFormat.read(future, 0));
    assertThrows(IllegalArgumentException.class, () -> WireFormat.read(Buffer.buffer().appendInt(-1), 0));
  }

  @Test
  @DisplayName("version 1 is the first release's layout byte for byte: a count, then ten positional fields each")
  void legacyLayout() {
    Buffer buffer = Buffer.buffer();
    WireFormat.write(buffer, batch(List.of(Envelope.undelivered(RELAY, "\u00e9"))), WireFormat.LEGACY);
    Buffer expected = Buffer.buffer().appendInt(1).appendByte((byte) 7).appendLong(0).appendLong(42).appendLong(7);
    for (String s : new String[] {"room-1", "alice", null, ORIGIN, null, "\u00e9"}) {
      if (s == null) {
        expected.appendInt(-1);
      } else {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        expected.appendInt(b.length).appendBytes(b);
      }
    }
    assertEquals(expected, buffer);
    // A first-release node never reads a null node from a leave or a state change.
    Buffer left = Buffer.buffer();
    WireFormat.write(left, batch(List.of(new PeerLeft("r", "p", 5, "{}"))), WireFormat.LEGACY);
    int nodeAt = 4 + 25 + (4 + 1) + (4 + 1) + 4 + (4 + ORIGIN.length());
    assertEquals(ORIGIN.length(), left.getInt(nodeAt));
  }

  @Test
  @DisplayName("a version-1 batch with an unknown tag cannot be skipped (no lengths): refused whole")
  void legacyUnknownTagRefused() {
    Buffer buffer = Buffer.buffer();
    WireFormat.write(buffer, batch(List.of(RELAY)), WireFormat.LEGACY);
    buffer.setByte(4, (byte) 99);
    assertThrows(IllegalArgumentException.class, () -> WireFormat.read(buffer, 0));
  }

  @Test
  @DisplayName("the codec writes the configured version, reads any, and passes a batch by reference locally")
  void codec() {
    Batch sent = batch(oneOfEachKind());
    for (int version : new int[] {WireFormat.VERSION, WireFormat.LEGACY}) {
      BatchCodec codec = new BatchCodec(version);
      Buffer buffer = Buffer.buffer();
      codec.encodeToWire(buffer, sent);
      Batch back = new BatchCodec(WireFormat.VERSION).decodeFromWire(0, buffer);
      assertEquals(version, back.version());
      assertEquals(version == WireFormat.LEGACY ? legacyKinds(sent.envelopes()) : sent.envelopes(), back.envelopes());
      assertSame(sent, codec.transform(sent));
    }
    assertThrows(IllegalArgumentException.class, () -> new BatchCodec(3));
    assertEquals("sb-batch", new BatchCodec(2).name());
    assertEquals(-1, new BatchCodec(2).systemCodecID());
  }
}
