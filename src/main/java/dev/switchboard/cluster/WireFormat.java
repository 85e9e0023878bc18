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
 * The node-to-node wire format, version 2: a batch header, then each envelope as a tag, a
 * length and its fields.
 *
 * <pre>
 * batch  := 0xB5 version:u8 origin:str stream:u16 seq:i64 count:u16 entry{count}
 * entry  := tag:u8 length:i32 body[length]
 * str    := length:i32 (-1 for null) UTF-8 bytes
 * </pre>
 *
 * <p>What makes it outlive a release (a rolling update runs old and new nodes side by side):
 * <ul>
 *   <li>an entry whose tag the reader does not know is skipped by its length and counted
 *       ({@link Batch#skipped()}), never a reason to drop the rest of the batch;</li>
 *   <li>a body is read field by field, in order: fields a newer writer appended are ignored,
 *       fields an older writer did not have take their defaults (null, 0);</li>
 *   <li>the version changes only when the framing above changes. A reader reads every version
 *       it knows ({@link #LEGACY}, the unversioned format before it, included); a writer writes
 *       the version the node is configured for ({@code cluster.wire-version}), so that a new node
 *       can speak the old format until every node of the cluster reads the new one.</li>
 * </ul>
 * Tags are for ever: never reuse one. Each body lists its fields in the order written.
 */
public final class WireFormat {

  /** The format this release writes by default. */
  public static final int VERSION = 2;
  /** The unversioned format of the first release ({@link LegacyWire}); still read, and written on request. */
  public static final int LEGACY = 1;
  /** The first byte of a versioned batch: a legacy batch starts with a count below 2^24, so with 0x00. */
  static final byte MAGIC = (byte) 0xB5;
  /** More entries than a batch may hold mean a corrupt frame ({@link NodeChannel#MAX_BATCH} are sent at most). */
  static final int MAX_COUNT = 0xFFFF;

  static final byte RELAY = 1;
  static final byte ROOM_MESSAGE = 2;
  static final byte PEER_JOINED = 3;
  static final byte PEER_LEFT = 4;
  static final byte PEER_STATE = 5;
  static final byte DELIVERED = 6;
  static final byte UNDELIVERED = 7;
  static final byte CLOSE_ROOM = 8;
  static final byte DRAIN = 9;
  static final byte UNDRAIN = 10;
  static final byte PEER_MOVED = 11;
  static final byte CLAIM = 12;
  static final byte CLAIM_REFUSED = 13;
  static final byte HANDOVER = 14;
  static final byte FORWARDED = 15;
  static final byte FENCE = 16;
  static final byte CLIENT_FRAME = 17;
  static final byte KICK = 18;
  static final byte MOVE_FENCE = 19;

  private WireFormat() {
  }

  /** True for the versions this node can write. */
  public static boolean canWrite(int version) {
    return version == VERSION || version == LEGACY;
  }

  /** Appends {@code batch} to {@code out} in format {@code version}. */
  public static void write(Buffer out, Batch batch, int version) {
    if (version == LEGACY) {
      LegacyWire.write(out, batch);
      return;
    }
    out.appendByte(MAGIC).appendByte((byte) VERSION);
    putString(out, batch.origin());
    out.appendShort((short) batch.stream()).appendLong(batch.seq()).appendShort((short) batch.envelopes().size());
    for (Envelope e : batch.envelopes()) {
      writeEntry(out, e);
    }
  }

  /** Reads the batch at {@code pos}, in any version this node knows. */
  public static Batch read(Buffer in, int pos) {
    byte first = in.getByte(pos);
    if (first != MAGIC) {
      return LegacyWire.read(in, pos);
    }
    int version = in.getUnsignedByte(pos + 1);
    if (version != VERSION) {
      throw new IllegalArgumentException("node-to-node format version " + version + " is not known to this node");
    }
    int[] at = {pos + 2};
    String origin = getString(in, at, in.length());
    int stream = in.getUnsignedShort(at[0]);
    long seq = in.getLong(at[0] + 2);
    int count = in.getUnsignedShort(at[0] + 10);
    at[0] += 12;
    List<Envelope> envelopes = new ArrayList<>(count);
    int skipped = 0;
    for (int i = 0; i < count; i++) {
      byte tag = in.getByte(at[0]);
      int length = in.getInt(at[0] + 1);
      int start = at[0] + 5;
      int end = start + length;
      if (length < 0 || end > in.length()) {
        throw new IllegalArgumentException("entry " + i + " of " + length + " bytes overruns the batch");
      }
      Envelope e = readBody(tag, new Fields(in, start, end), origin);
      if (e == null) {
        skipped++;
      } else {
        envelopes.add(e);
      }
      at[0] = end;
    }
    return new Batch(origin, stream, seq, envelopes, VERSION, skipped);
  }

  private static void writeEntry(Buffer out, Envelope envelope) {
    int tagAt = out.length();
    out.appendByte((byte) 0).appendInt(0);
    int start = out.length();
    byte tag;
    if (envelope instanceof Relay e) {
      putStrings(out, e.room(), e.to(), e.from());
      out.appendLong(e.session()).appendLong(e.ref());
      putString(out, e.frame());
      out.appendLong(e.sentAtMicros()); // appended in this release: an older reader stops before it
      tag = RELAY;
    } else if (envelope instanceof RoomMessage e) {
      putStrings(out, e.room(), e.from(), e.frame());
      tag = ROOM_MESSAGE;
    } else if (envelope instanceof PeerJoined e) {
      putStrings(out, e.room(), e.peer(), e.node());
      out.appendLong(e.seq());
      putString(out, e.frame());
      tag = PEER_JOINED;
    } else if (envelope instanceof PeerLeft e) {
      putStrings(out, e.room(), e.peer());
      out.appendLong(e.seq());
      putString(out, e.frame());
      tag = PEER_LEFT;
    } else if (envelope instanceof PeerStateChanged e) {
      putStrings(out, e.room(), e.peer());
      out.appendLong(e.seq());
      putString(out, e.frame());
      tag = PEER_STATE;
    } else if (envelope instanceof Delivered e) {
      putStrings(out, e.room(), e.sender());
      out.appendLong(e.session()).appendLong(e.ref());
      tag = DELIVERED;
    } else if (envelope instanceof Undelivered e) {
      putStrings(out, e.room(), e.sender());
      out.appendLong(e.session()).appendLong(e.ref());
      putString(out, e.code());
      tag = UNDELIVERED;
    } else if (envelope instanceof CloseRoom e) {
      putStrings(out, e.room(), e.frame());
      tag = CLOSE_ROOM;
    } else if (envelope instanceof Drain) {
      tag = DRAIN;
    } else if (envelope instanceof Envelope.Undrain) {
      tag = UNDRAIN;
    } else {
      tag = writeResumeBody(out, envelope);
    }
    out.setByte(tagAt, tag).setInt(tagAt + 1, out.length() - start);
  }

  /** The bodies of the envelopes that move a peer between nodes (docs/design.md, "Resume through another node"). */
  private static byte writeResumeBody(Buffer out, Envelope envelope) {
    if (envelope instanceof Envelope.PeerMoved e) {
      putStrings(out, e.room(), e.peer(), e.from(), e.node());
      out.appendLong(e.seq());
      return PEER_MOVED;
    } else if (envelope instanceof Envelope.Claim e) {
      putStrings(out, e.room(), e.peer(), e.node(), e.tokenDigest());
      out.appendLong(e.received());
      return CLAIM;
    } else if (envelope instanceof Envelope.ClaimRefused e) {
      putStrings(out, e.room(), e.peer(), e.reason(), e.node());
      return CLAIM_REFUSED;
    } else if (envelope instanceof Envelope.Handover e) {
      putStrings(out, e.room(), e.peer());
      out.appendLong(e.told());
      putString(out, e.pending());
      return HANDOVER;
    } else if (envelope instanceof Envelope.Forwarded e) {
      // A relay's origin (where its answer goes) is not the batch's here: it is written out.
      putStrings(out, e.room(), e.peer(), e.inner() instanceof Relay r ? r.origin() : null);
      writeEntry(out, e.inner()); // nested: a tag, a length and the inner body
      return FORWARDED;
    } else if (envelope instanceof Envelope.Fence e) {
      putStrings(out, e.room(), e.to(), e.from());
      out.appendLong(e.seq());
      putStrings(out, e.via(), e.node());
      return FENCE;
    } else if (envelope instanceof Envelope.ClientFrame e) {
      putStrings(out, e.room(), e.peer(), e.frame());
      return CLIENT_FRAME;
    } else if (envelope instanceof Envelope.Kick e) {
      putStrings(out, e.room(), e.peer(), e.frame());
      return KICK;
    } else if (envelope instanceof Envelope.MoveFence e) {
      putStrings(out, e.room(), e.peer(), e.from());
      out.appendLong(e.seq());
      putString(out, e.targets());
      return MOVE_FENCE;
    } else {
      throw new IllegalArgumentException("no wire form for " + envelope);
    }
  }

  /** The envelope of one entry; {@code null} for a tag this node does not know. */
  private static Envelope readBody(byte tag, Fields f, String origin) {
    return switch (tag) {
      case RELAY -> new Relay(f.string(), f.string(), f.string(), f.int64(), origin, f.int64(), f.string(), f.int64());
      case ROOM_MESSAGE -> new RoomMessage(f.string(), f.string(), f.string());
      case PEER_JOINED -> new PeerJoined(f.string(), f.string(), f.string(), f.int64(), f.string());
      case PEER_LEFT -> new PeerLeft(f.string(), f.string(), f.int64(), f.string());
      case PEER_STATE -> new PeerStateChanged(f.string(), f.string(), f.int64(), f.string());
      case DELIVERED -> new Delivered(f.string(), f.string(), f.int64(), f.int64());
      case UNDELIVERED -> new Undelivered(f.string(), f.string(), f.int64(), f.int64(), f.string());
      case CLOSE_ROOM -> new CloseRoom(f.string(), f.string());
      case DRAIN -> new Drain();
      case UNDRAIN -> new Envelope.Undrain();
      case PEER_MOVED -> new Envelope.PeerMoved(f.string(), f.string(), f.string(), f.string(), f.int64());
      case CLAIM -> new Envelope.Claim(f.string(), f.string(), f.string(), f.string(), f.int64());
      case CLAIM_REFUSED -> new Envelope.ClaimRefused(f.string(), f.string(), f.string(), f.string());
      case HANDOVER -> new Envelope.Handover(f.string(), f.string(), f.int64(), f.string());
      case FORWARDED -> forwarded(f, origin);
      case FENCE -> new Envelope.Fence(f.string(), f.string(), f.string(), f.int64(), f.string(), f.string());
      case CLIENT_FRAME -> new Envelope.ClientFrame(f.string(), f.string(), f.string());
      case KICK -> new Envelope.Kick(f.string(), f.string(), f.string());
      case MOVE_FENCE -> new Envelope.MoveFence(f.string(), f.string(), f.string(), f.int64(), f.string());
      default -> null;
    };
  }

  /** A forwarded envelope; null (skipped) if the inner one is of a kind this node does not know. */
  private static Envelope forwarded(Fields f, String origin) {
    String room = f.string();
    String peer = f.string();
    String innerOrigin = f.string();
    Envelope inner = f.entry(innerOrigin == null ? origin : innerOrigin);
    return inner == null ? null : new Envelope.Forwarded(room, peer, inner);
  }

  /** The fields of one entry's body, read in order; past its end each field reads as its default. */
  private static final class Fields {
    private final Buffer in;
    private final int end;
    private final int[] at;

    Fields(Buffer in, int start, int end) {
      this.in = in;
      this.end = end;
      this.at = new int[] {start};
    }

    String string() {
      return at[0] + 4 <= end ? getString(in, at, end) : null;
    }

    /** A nested entry (a tag, a length, a body); null past the end or for an unknown tag. */
    Envelope entry(String origin) {
      if (at[0] + 5 > end) {
        return null;
      }
      byte tag = in.getByte(at[0]);
      int length = in.getInt(at[0] + 1);
      int start = at[0] + 5;
      if (length < 0 || start + length > end) {
        throw new IllegalArgumentException("a nested entry of " + length + " bytes overruns its entry");
      }
      at[0] = start + length;
      return readBody(tag, new Fields(in, start, start + length), origin);
    }

    long int64() {
      if (at[0] + 8 > end) {
        return 0;
      }
      long v = in.getLong(at[0]);
      at[0] += 8;
      return v;
    }
  }

  private static void putStrings(Buffer out, String... values) {
    for (String v : values) {
      putString(out, v);
    }
  }

  static void putString(Buffer out, String s) {
    if (s == null) {
      out.appendInt(-1);
      return;
    }
    int lengthAt = out.length();
    out.appendInt(0);
    out.appendString(s);
    out.setInt(lengthAt, out.length() - lengthAt - 4);
  }

  /** Reads the string at {@code at[0]}, which must end by {@code end}, and moves past it. */
  static String getString(Buffer in, int[] at, int end) {
    int length = in.getInt(at[0]);
    at[0] += 4;
    if (length < 0) {
      return null;
    }
    if (at[0] + length > end) {
      throw new IllegalArgumentException("a string of " + length + " bytes overruns its entry");
    }
    String s = in.getString(at[0], at[0] + length);
    at[0] += length;
    return s;
  }
}
