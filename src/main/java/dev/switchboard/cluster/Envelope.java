package dev.switchboard.cluster;

/**
 * What one node tells another (or itself) about rooms and peers: one record per kind, each
 * carrying only its own fields. A {@code frame} is the client-facing text, encoded once by the
 * node that created the envelope; nodes route on the other fields and never parse it.
 *
 * <p>Envelopes are immutable and passed by reference within a node. Between nodes they travel
 * in batches written by {@link WireFormat}, where each kind has a tag of its own: adding a kind
 * or a trailing field is a change old nodes skip, not a change that breaks them.
 */
public sealed interface Envelope {

  /** The room the envelope is about; {@code null} for an envelope about the node itself. */
  String room();

  /**
   * A message for one peer, {@code to}. The target's node answers with {@link Delivered} (when
   * {@code ref != 0}) or {@link Undelivered}, to {@code origin}.
   *
   * @param session the sending session: a peer that left and joined again is another session
   * @param ref     the sender's reference for the answer; 0 when no answer is wanted
   * @param sentAtMicros when the sender's node took it from its client, in microseconds since the
   *                     epoch (0: not known, a writer without it), for the relay latency metric
   */
  record Relay(String room, String to, String from, long session, String origin, long ref, String frame,
               long sentAtMicros) implements Envelope {
    /** A relay without its sending time (a writer that had none). */
    public Relay(String room, String to, String from, long session, String origin, long ref, String frame) {
      this(room, to, from, session, origin, ref, frame, 0);
    }
  }

  /** A message for every member of the room on the receiving node but {@code from}. */
  record RoomMessage(String room, String from, String frame) implements Envelope {
  }

  /**
   * A change in a room's membership, stamped with the room's sequence number in the store: the
   * order in which every node applies the changes about one peer.
   */
  sealed interface Membership extends Envelope {
    /** The peer the change is about. */
    String peer();

    /** The room's sequence number of the change. */
    long seq();

    /** What the members are told. */
    String frame();
  }

  /** {@code peer} joined the room on {@code node}. */
  record PeerJoined(String room, String peer, String node, long seq, String frame) implements Membership {
  }

  /** {@code peer} left the room (or was lost with its node). */
  record PeerLeft(String room, String peer, long seq, String frame) implements Membership {
  }

  /** {@code peer} changed its published state. */
  record PeerStateChanged(String room, String peer, long seq, String frame) implements Membership {
  }

  /** The relay {@code ref} that session {@code session} of {@code sender} sent was delivered. */
  record Delivered(String room, String sender, long session, long ref) implements Envelope {
  }

  /** The relay {@code ref} was not delivered, for the reason {@code code} (a protocol error code). */
  record Undelivered(String room, String sender, long session, long ref, String code) implements Envelope {
  }

  /** The room is closed by an operator: every local member gets {@code frame}, then a close. */
  record CloseRoom(String room, String frame) implements Envelope {
  }

  /** An operator removes {@code peer} from {@code room}: its client gets {@code frame}, then a close. */
  record Kick(String room, String peer, String frame) implements Envelope {
  }

  /**
   * {@code peer} moved from node {@code from} to {@code node} (it resumed there), as the store
   * ordered it at {@code seq}. Nothing is shown to clients: the peer is the same. Senders route
   * to {@code node} from now on, each sending a {@link Fence} first ({@code docs/design.md},
   * "Resume through another node").
   */
  record PeerMoved(String room, String peer, String from, String node, long seq) implements Envelope {
  }

  /**
   * Node {@code node} asks the node holding {@code peer} to hand it over: its client showed a
   * token whose SHA-256 digest is {@code tokenDigest}, and had {@code received} frames since its
   * last welcome. Answered by {@link Handover} or {@link ClaimRefused}.
   */
  record Claim(String room, String peer, String node, String tokenDigest, long received) implements Envelope {
  }

  /**
   * The claim of {@code peer} is refused, or given up, by node {@code node}: {@code reason} is
   * {@code "token"} (not its session's) or {@code "gone"}.
   */
  record ClaimRefused(String room, String peer, String reason, String node) implements Envelope {
    /** The token shown is not the session's (wrong, used up, another peer's), or another resume is under way. */
    public static final String TOKEN = "token";
    /** The session is no longer there to hand over (it left, or was handed over already). */
    public static final String GONE = "gone";
  }

  /**
   * The claim of {@code peer} is granted: its old node heard {@code told} of its client's
   * messages since the last welcome, and still awaits the answers to its relays with the ids in
   * {@code pending} (a JSON array: they come on as frames, unless the old node dies first). What
   * the session held follows, each as a {@link Forwarded}, and from then on everything that
   * reaches the old node for the peer.
   */
  record Handover(String room, String peer, long told, String pending) implements Envelope {
  }

  /**
   * {@code inner} reached {@code peer}'s previous node, which handed it on to the peer's new
   * node: it precedes whatever its sender sent to the new node after its {@link Fence}.
   */
  record Forwarded(String room, String peer, Envelope inner) implements Envelope {
  }

  /**
   * Sender {@code from} will send to {@code to}'s new node directly from now on. Sent twice: to
   * the old node {@code via}, which hands it on behind what {@code from} sent there before, and to
   * the new node {@code node}, which holds what {@code from} sends directly until the first one
   * has come through ({@code seq} is the move's).
   */
  record Fence(String room, String to, String from, long seq, String via, String node) implements Envelope {
  }

  /**
   * The move of {@code peer} from node {@code from} (the writer) that the store ordered at
   * {@code seq} is behind everything {@code peer} sent from there: sent by {@code from}, once the
   * move is confirmed, to each of the nodes {@code targets} lists (a JSON array: the room's
   * nodes, and those other members lately moved away from, whose forwarders pass it on). The
   * members hold what {@code peer} sends from its new node, from the {@link PeerMoved} until this
   * has come by every road they expect it on.
   */
  record MoveFence(String room, String peer, String from, long seq, String targets) implements Envelope {
  }

  /**
   * A frame for {@code peer}'s client written by its previous node: the answer to a relay it
   * sent from there, or one its dead socket may have swallowed. Travels inside {@link Forwarded}.
   */
  record ClientFrame(String room, String peer, String frame) implements Envelope {
  }

  /** The receiving node is to drain: placement skips it from now on. */
  record Drain() implements Envelope {
    @Override
    public String room() {
      return null;
    }
  }

  /** The receiving node is to take new peers again: placement may choose it. */
  record Undrain() implements Envelope {
    @Override
    public String room() {
      return null;
    }
  }

  /** The answer to {@code relay}: delivered. */
  static Delivered delivered(Relay relay) {
    return new Delivered(relay.room(), relay.from(), relay.session(), relay.ref());
  }

  /** The answer to {@code relay}: not delivered, for the reason {@code code}. */
  static Undelivered undelivered(Relay relay, String code) {
    return new Undelivered(relay.room(), relay.from(), relay.session(), relay.ref(), code);
  }
}
