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

  /** What a join found. */
  enum JoinStatus { OK, TAKEN, FULL, STALE_EPOCH }

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

  /** The outcome of a join: on success the room's sequence number and every member, the joiner too. */
  record JoinResult(JoinStatus status, long seq, List<StoredMember> members) {
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

  /**
   * Adds {@code peer} to {@code room} on {@code node}. {@code record} is the member record
   * without {@code seq}; the store adds it.
   */
  Future<JoinResult> join(String room, String peer, String node, JsonObject record, int defaultMaxPeers);

  /** Removes {@code peer} from {@code room} if {@code node} still holds it. */
  Future<Change> leave(String room, String peer, String node);

  /** {@link #leave(String, String, String)} with its own time limit, for a leave that queues behind a slow step. */
  Future<Change> leave(String room, String peer, String node, long timeoutMs);

  /** Replaces the record of {@code peer} (its state changed) if {@code node} still holds it. */
  Future<Change> updateMember(String room, String peer, String node, JsonObject record);

  /**
   * Writes back a member this node holds, after the store lost its data; the room's sequence
   * first rises to {@code minSeq}. Returns the room as it is afterwards.
   */
  Future<Snapshot> restore(String room, String peer, String node, JsonObject record, long minSeq);

  /**
   * Moves {@code peer} of {@code room} from node {@code from} to node {@code to} (it resumed
   * there), if {@code from} still holds it: its record stays as stored but for its node and a
   * new sequence number. Returns the room afterwards ({@code applied} false, and nothing else, if
   * not).
   */
  Future<Snapshot> move(String room, String peer, String from, String to);

  /** The {@code room/peer} pairs the store says {@code node} holds. */
  Future<List<String>> nodePeers(String node);

  /** Which of {@code nodes} have a live record (they heartbeat). */
  Future<List<String>> liveNodes(List<String> nodes);

  /** The room's members and sequence number now. */
  Future<Snapshot> snapshot(String room);
}
