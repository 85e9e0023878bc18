package dev.switchboard.cluster;

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
import java.util.ArrayList;
import java.util.List;

/**
 * The first release's node-to-node format ({@link WireFormat#LEGACY}): no version, no lengths,
 * every envelope the same ten positional fields whatever its kind.
 *
 * <pre>
 * batch    := count:i32 envelope{count}
 * envelope := tag:u8 seq:i64 ref:i64 session:i64 room:str peer:str from:str origin:str node:str payload:str
 * </pre>
 *
 * <p>Kept so that a node of this release reads what a first-release node sends, and can be told
 * to write it ({@code cluster.wire-version=1}) while first-release nodes are still in the
 * cluster. An unknown tag cannot be skipped here (there is no length): it fails the batch,
 * which is why the format was replaced. The tags are {@link WireFormat}'s. Kinds the first
 * release did not have ({@link Envelope.Undrain}, and those that move a peer between nodes) are
 * left out of what is written: one would fail the whole batch there. So while a node writes this
 * format, a peer resumes only on the node that holds it.
 */
final class LegacyWire {

  private LegacyWire() {
  }

  static void write(Buffer out, Batch batch) {
    List<Envelope> known = batch.envelopes().stream().filter(LegacyWire::known).toList();
    out.appendInt(known.size());
    String origin = batch.origin();
    for (Envelope envelope : known) {
      if (envelope instanceof Relay e) {
        put(out, WireFormat.RELAY, 0, e.ref(), e.session(), e.room(), e.to(), e.from(), origin, null, e.frame());
      } else if (envelope instanceof RoomMessage e) {
        put(out, WireFormat.ROOM_MESSAGE, 0, 0, 0, e.room(), null, e.from(), origin, null, e.frame());
      } else if (envelope instanceof PeerJoined e) {
        put(out, WireFormat.PEER_JOINED, e.seq(), 0, 0, e.room(), e.peer(), null, origin, e.node(), e.frame());
      } else if (envelope instanceof PeerLeft e) {
        // A first-release node keeps the node of a peer it never heard of from this field: never null.
        put(out, WireFormat.PEER_LEFT, e.seq(), 0, 0, e.room(), e.peer(), null, origin, origin, e.frame());
      } else if (envelope instanceof PeerStateChanged e) {
        put(out, WireFormat.PEER_STATE, e.seq(), 0, 0, e.room(), e.peer(), null, origin, origin, e.frame());
      } else if (envelope instanceof Delivered e) {
        put(out, WireFormat.DELIVERED, 0, e.ref(), e.session(), e.room(), e.sender(), null, origin, null, null);
      } else if (envelope instanceof Undelivered e) {
        put(out, WireFormat.UNDELIVERED, 0, e.ref(), e.session(), e.room(), e.sender(), null, origin, null, e.code());
      } else if (envelope instanceof CloseRoom e) {
        put(out, WireFormat.CLOSE_ROOM, 0, 0, 0, e.room(), null, null, origin, null, e.frame());
      } else if (envelope instanceof Drain) {
        put(out, WireFormat.DRAIN, 0, 0, 0, null, null, null, origin, null, null);
      } else {
        throw new IllegalArgumentException("no legacy wire form for " + envelope);
      }
    }
  }

  /** Whether the first release had this kind of envelope. */
  private static boolean known(Envelope e) {
    return e instanceof Relay || e instanceof RoomMessage || e instanceof Envelope.Membership || e instanceof Delivered
        || e instanceof Undelivered || e instanceof CloseRoom || e instanceof Drain;
  }

  private static void put(Buffer out, byte tag, long seq, long ref, long session, String room, String peer,
                          String from, String origin, String node, String payload) {
    out.appendByte(tag).appendLong(seq).appendLong(ref).appendLong(session);
    for (String s : new String[] {room, peer, from, origin, node, payload}) {
      WireFormat.putString(out, s);
    }
  }

  static Batch read(Buffer in, int pos) {
    int count = in.getInt(pos);
    if (count < 0 || count > WireFormat.MAX_COUNT) {
      throw new IllegalArgumentException("legacy envelope batch of " + count);
    }
    int[] at = {pos + 4};
    int end = in.length();
    List<Envelope> envelopes = new ArrayList<>(count);
    String batchOrigin = null;
    for (int i = 0; i < count; i++) {
      byte tag = in.getByte(at[0]);
      long seq = in.getLong(at[0] + 1);
      long ref = in.getLong(at[0] + 9);
      long session = in.getLong(at[0] + 17);
      at[0] += 25;
      String room = WireFormat.getString(in, at, end);
      String peer = WireFormat.getString(in, at, end);
      String from = WireFormat.getString(in, at, end);
      String origin = WireFormat.getString(in, at, end);
      String node = WireFormat.getString(in, at, end);
      String payload = WireFormat.getString(in, at, end);
      batchOrigin = batchOrigin == null ? origin : batchOrigin;
      envelopes.add(switch (tag) {
        case WireFormat.RELAY -> new Relay(room, peer, from, session, origin, ref, payload);
        case WireFormat.ROOM_MESSAGE -> new RoomMessage(room, from, payload);
        case WireFormat.PEER_JOINED -> new PeerJoined(room, peer, node, seq, payload);
        case WireFormat.PEER_LEFT -> new PeerLeft(room, peer, seq, payload);
        case WireFormat.PEER_STATE -> new PeerStateChanged(room, peer, seq, payload);
        case WireFormat.DELIVERED -> new Delivered(room, peer, session, ref);
        case WireFormat.UNDELIVERED -> new Undelivered(room, peer, session, ref, payload);
        case WireFormat.CLOSE_ROOM -> new CloseRoom(room, payload);
        case WireFormat.DRAIN -> new Drain();
        default -> throw new IllegalArgumentException("unknown legacy envelope kind " + tag);
      });
    }
    return new Batch(batchOrigin, 0, 0, envelopes, WireFormat.LEGACY, 0);
  }
}
