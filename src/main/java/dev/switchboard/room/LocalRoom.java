package dev.switchboard.room;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A room as this node holds it: its {@link RoomView} (where every member is) and the sessions of
 * its members on this node. It lives from the moment a local peer starts joining until the last
 * local peer is gone ({@link LocalRooms} counts the holds). Thread-safe.
 */
final class LocalRoom {

  private final String id;
  private final RoomView view = new RoomView();
  /** The local sessions by peer id: the exact answer to "is this peer here". */
  private final ConcurrentHashMap<String, PeerSession> sessions = new ConcurrentHashMap<>();
  /** Local peers joining, joined or leaving; guarded by {@link LocalRooms}' map. */
  int holds;

  LocalRoom(String id) {
    this.id = id;
  }

  String id() {
    return id;
  }

  RoomView view() {
    return view;
  }

  /** The local session of {@code peer}, or null. */
  PeerSession session(String peer) {
    return sessions.get(peer);
  }

  /** Every local session of the room. */
  Collection<PeerSession> sessions() {
    return sessions.values();
  }

  /**
   * Makes {@code session} the local holder of {@code peer}; false if another session holds it.
   * A session handed over to another node gives way: the peer is claimed back through it.
   */
  boolean claim(String peer, PeerSession session) {
    return sessions.compute(peer, (k, current) -> current == null || current.isHanded() ? session : current)
        == session;
  }

  /** From now on the router no longer finds {@code session} under {@code peer}. */
  void unclaim(String peer, PeerSession session) {
    sessions.remove(peer, session);
  }
}
