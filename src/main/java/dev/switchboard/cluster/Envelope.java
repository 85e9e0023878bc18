package dev.switchboard.cluster;

/**
 * What travels between nodes on {@code sb.node.<id>}, and from a node's dispatcher to a local
 * peer or room address. The payload is the client-facing frame text, encoded once by the node
 * that created it; nodes route on the other fields and never parse the payload.
 *
 * @param kind    what the envelope is
 * @param room    the room it belongs to
 * @param peer    the target peer (relays, acks) or the subject peer (membership events); else null
 * @param from    the sending peer (relays, room messages), so it is skipped or answered; else null
 * @param origin  the node that sent the envelope, where acks and nacks go back to
 * @param node    the subject peer's node (membership events); else null
 * @param seq     the room's Redis sequence number of a membership event; else 0
 * @param ref     the sender's reference for an ack or nack; 0 when no ack is wanted
 * @param session the sending session (relays), or the session an ack or nack is for: a peer
 *                that left and joined again under the same id is another session
 * @param payload the frame text to write to the client, or the error code of a nack
 */
public record Envelope(Kind kind, String room, String peer, String from, String origin,
                       String node, long seq, long ref, long session, String payload) {

  /** The kinds of envelope. The byte is the wire tag: never reuse one. */
  public enum Kind {
    /** A message for one peer. The target's node acks (when {@code ref != 0}) or nacks it. */
    RELAY(1),
    /** A message for every member of the room on the receiving node but {@code from}. */
    ROOM(2),
    /** {@code peer} joined the room on {@code node}, at {@code seq}. */
    JOINED(3),
    /** {@code peer} left the room, at {@code seq}. */
    LEFT(4),
    /** {@code peer} changed its state, at {@code seq}. */
    STATE(5),
    /** The relay {@code ref} from {@code peer} was delivered. */
    ACK(6),
    /** The relay {@code ref} from {@code peer} failed; the payload is the error code. */
    NACK(7),
    /** The room is closed by an operator: every local member gets the payload, then a close. */
    CLOSE_ROOM(8),
    /** The receiving node is to drain: placement skips it from now on. */
    DRAIN(9);

    final byte tag;

    Kind(int tag) {
      this.tag = (byte) tag;
    }

    static Kind ofTag(byte tag) {
      for (Kind k : values()) {
        if (k.tag == tag) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown envelope kind " + tag);
    }

    /** True for the membership events that update a node's view of a room. */
    public boolean isMembership() {
      return this == JOINED || this == LEFT || this == STATE;
    }
  }

  public static Envelope relay(String room, String target, String from, long session, String origin,
                               long ref, String payload) {
    return new Envelope(Kind.RELAY, room, target, from, origin, null, 0, ref, session, payload);
  }

  public static Envelope room(String room, String from, String origin, String payload) {
    return new Envelope(Kind.ROOM, room, null, from, origin, null, 0, 0, 0, payload);
  }

  public static Envelope membership(Kind kind, String room, String peer, String node, long seq,
                                    String origin, String payload) {
    return new Envelope(kind, room, peer, null, origin, node, seq, 0, 0, payload);
  }

  public static Envelope closeRoom(String room, String origin, String payload) {
    return new Envelope(Kind.CLOSE_ROOM, room, null, null, origin, null, 0, 0, 0, payload);
  }

  public static Envelope drain(String origin) {
    return new Envelope(Kind.DRAIN, null, null, null, origin, null, 0, 0, 0, null);
  }

  /** The answer to {@code relay}: delivered. */
  public static Envelope ack(Envelope relay, String origin) {
    return new Envelope(Kind.ACK, relay.room(), relay.from(), null, origin, null, 0, relay.ref(),
        relay.session(), null);
  }

  /** The answer to {@code relay}: not delivered, for the reason {@code code}. */
  public static Envelope nack(Envelope relay, String origin, String code) {
    return new Envelope(Kind.NACK, relay.room(), relay.from(), null, origin, null, 0, relay.ref(),
        relay.session(), code);
  }
}
