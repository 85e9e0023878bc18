package dev.switchboard.registry;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The rooms and their members, as every node agrees on them: the one ordering of each room's
 * changes. Each step is atomic and returns the room's sequence number after it, which orders the
 * events the calling node then sends to the room's nodes. {@link RedisRoomStore} keeps them in
 * Redis; tests of the room rules use a store whose answers they release in the order they choose.
 *
 * <p>A failed future means the outcome is unknown (the store did not answer in time): the step
 * may or may not have happened.
 */
public interface RoomStore {

  /**
   * What a join found. ROLE: the role does not fit the room's mode (a mesh room takes peers, a
   * broadcast room a presenter and viewers); PRESENTER_TAKEN: the broadcast room has its presenter.
   */
  enum JoinStatus { OK, TAKEN, FULL, STALE_EPOCH, ROLE, PRESENTER_TAKEN }

  /** A member as stored: its id and its record ({@code seq, node, meta, state, role, joinedAt}). */
  record StoredMember(String peer, JsonObject record) {
    /** The node holding the member. */
    public String node() {
      return record.getString("node");
    }

    /** The room's sequence number of the member's last change. */
    public long seq() {
      return record.getLong("seq", 0L);
    }
  }

  /**
   * What kind of room it is, as configured ahead of its first peer ({@code POST /v1/rooms}) or
   * the default: its {@code mode} ({@code mesh} or {@code broadcast}) and {@code media}
   * ({@code p2p} or {@code sfu}).
   */
  record RoomKind(String mode, String media) {
    public static final RoomKind MESH = new RoomKind("mesh", "p2p");

    /** Whether media goes through the media server. */
    public boolean sfu() {
      return "sfu".equals(media);
    }
  }

  /**
   * The outcome of a join: on success the room's sequence number, every member (the joiner
   * too), the room's kind and the joiner's role (the room's default when it asked for none).
   */
  record JoinResult(JoinStatus status, long seq, List<StoredMember> members, RoomKind kind, String role) {
    /** A join refused with {@code status}. */
    public static JoinResult refused(JoinStatus status) {
      return new JoinResult(status, 0, List.of(), null, null);
    }
  }

  /**
   * The outcome of a leave or state change: {@code applied} is false when the peer was not (or
   * no longer) held by this node; {@code nodes} are the nodes holding members afterwards.
   */
  record Change(boolean applied, long seq, List<String> nodes, boolean alive) {
  }

  /**
   * The room as the store has it: its sequence number and every member. From a restore, also
   * whether the member was written back ({@code applied}) or was there already.
   */
  record Snapshot(boolean applied, long seq, List<StoredMember> members) {
  }

  /** How a move to another node went ({@link #move}, {@link #adopt}). */
  enum MoveStatus {
    OK,
    /** The old node no longer holds the peer (it left, or moved already). */
    ABSENT,
    /** Adopting: the old node is not declared dead (yet). */
    ALIVE,
    /** Adopting: the token the client showed is not the member's. */
    REFUSED
  }

  /**
   * The outcome of a move: on {@code OK} the room afterwards ({@code seq}, every member), the
   * frames held for the peer since its node died, oldest first, and the room's kind (the node the
   * member moves to did not see it join).
   */
  record Moved(MoveStatus status, long seq, List<StoredMember> members, List<String> held, RoomKind kind) {
    /** A move that did not happen, for {@code status}. */
    public static Moved refused(MoveStatus status) {
      return new Moved(status, 0, List.of(), List.of(), null);
    }

    public boolean applied() {
      return status == MoveStatus.OK;
    }
  }

  /** How holding a frame for an orphan went ({@link #hold}). */
  enum HoldStatus {
    HELD,
    /** The peer is not in the room. */
    ABSENT,
    /** The peer is on another node now ({@link Held#node}): it resumed there. */
    MOVED,
    /** Its node is not declared dead (yet). */
    ALIVE,
    /** Holding it would pass the bounds: the peer is to be treated as gone. */
    FULL
  }

  /** The outcome of {@link #hold}; {@code node} is the peer's node when it {@code MOVED}. */
  record Held(HoldStatus status, String node) {
  }

  /**
   * Adds {@code peer} to {@code room} on {@code node}. {@code record} is the member record
   * without {@code seq}; the store adds it. Its {@code role} is empty for the room's default
   * (a broadcast room's viewer, a mesh room's peer), then its first field: the store writes the
   * role it chose there. {@code tokenDigest} is the digest of the resume
   * token the welcome will carry (null if none), checked by a resume after the node's death.
   */
  Future<JoinResult> join(String room, String peer, String node, JsonObject record, int defaultMaxPeers,
                          String tokenDigest);

  /** Removes {@code peer} from {@code room} if {@code node} still holds it. */
  Future<Change> leave(String room, String peer, String node);

  /** {@link #leave(String, String, String)} with its own time limit, for a leave that queues behind a slow step. */
  Future<Change> leave(String room, String peer, String node, long timeoutMs);

  /** Replaces the record of {@code peer} (its state changed) if {@code node} still holds it. */
  Future<Change> updateMember(String room, String peer, String node, JsonObject record);

  /**
   * Writes back a member this node holds, after the store lost its data, with the digest of its
   * resume token (null if none); the room's sequence first rises to {@code minSeq}. Returns the
   * room as it is afterwards.
   */
  Future<Snapshot> restore(String room, String peer, String node, JsonObject record, long minSeq,
                           String tokenDigest);

  /**
   * {@code peer} resumed on {@code node}, which holds it: its new welcome's token digest
   * replaces the old one. Returns the room as it is now.
   */
  Future<Snapshot> rekey(String room, String peer, String node, String tokenDigest);

  /**
   * Moves {@code peer} of {@code room} from node {@code from} to node {@code to} (it resumed
   * there and {@code from} handed it over), if {@code from} still holds it: its record stays as
   * stored but for its node and a new sequence number, and {@code tokenDigest} is its new
   * token's. {@code OK} or {@code ABSENT}.
   */
  Future<Moved> move(String room, String peer, String from, String to, String tokenDigest);

  /**
   * {@link #move} for a peer whose node {@code dead} died: only once that node is declared dead,
   * and only if {@code presentedDigest} is the digest of the member's token. Takes what was held
   * for it ({@link #hold}).
   */
  Future<Moved> adopt(String room, String peer, String dead, String to, String presentedDigest, String tokenDigest);

  /**
   * Holds {@code frame} for {@code peer}, whose node {@code dead} died, until it resumes
   * elsewhere ({@link #adopt}) or its window ends: at most {@code maxFrames} frames and
   * {@code maxBytes} bytes, kept {@code ttlMs} at most.
   */
  Future<Held> hold(String room, String peer, String dead, String frame, int maxFrames, int maxBytes, long ttlMs);

  /**
   * Removes {@code peer} of the dead node {@code dead} from {@code room}, unless that node has a
   * record again (it woke up: the change is then {@link Change#alive()}).
   */
  Future<Change> reapLeave(String room, String peer, String dead);

  /** The {@code room/peer} pairs the store says {@code node} holds. */
  Future<List<String>> nodePeers(String node);

  /** Which of {@code nodes} have a live record (they heartbeat). */
  Future<List<String>> liveNodes(List<String> nodes);

  /** The room's members and sequence number now. */
  Future<Snapshot> snapshot(String room);
}
