package dev.switchboard.room;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A room as this node holds it: its {@link RoomView} (where every member is) and the sessions of
 * its members on this node. It lives from the moment a local peer starts joining until the last
 * local peer is gone ({@link LocalRooms} counts the holds). Thread-safe.
 */
final class LocalRoom {

  private final String id;
  private final RoomView view;
  /** The local sessions by peer id: the exact answer to "is this peer here". */
  private final ConcurrentHashMap<String, PeerSession> sessions = new ConcurrentHashMap<>();
  /** Sessions handed over from here kept per peer at most (older ones stop forwarding early). */
  static final int MAX_HANDED_BACK = 4;

  /**
   * Sessions handed over to another node whose peer came back here meanwhile: still forwarding
   * (fences through this node, answers to their relays) beside the peer's new session, newest
   * last.
   */
  private final ConcurrentHashMap<String, List<PeerSession>> handedBack = new ConcurrentHashMap<>();
  /** Local peers joining, joined or leaving; guarded by {@link LocalRooms}' map. */
  int holds;

  LocalRoom(String id, MoveWindows windows) {
    this.id = id;
    this.view = new RoomView(windows.fenceWindowNanos());
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
    return sessions.compute(peer, (k, current) -> {
      if (current == null) {
        return session;
      }
      if (current.isHanded()) {
        handedBack.compute(peer, (p, list) -> {
          List<PeerSession> next = list == null ? new ArrayList<>() : new ArrayList<>(list);
          next.add(current);
          return next.size() > MAX_HANDED_BACK ? List.copyOf(next.subList(1, next.size())) : List.copyOf(next);
        });
        return session;
      }
      return current;
    }) == session;
  }

  /**
   * The session of {@code peer} that a fence through this node toward {@code node} is for: the
   * one handed over from here to that node (even when the peer came back here since), else the
   * latest one handed over from here (the fence follows its forwarding on); null if none.
   */
  PeerSession handedOver(String peer, String node) {
    PeerSession s = sessions.get(peer);
    List<PeerSession> back = handedBack.getOrDefault(peer, List.of());
    if (s != null && s.parts().handoff().forwardsTo(node)) {
      return s;
    }
    for (PeerSession b : back) {
      if (b.parts().handoff().forwardsTo(node)) {
        return b;
      }
    }
    if (s != null && s.isHanded()) {
      return s;
    }
    return back.isEmpty() ? null : back.get(back.size() - 1);
  }

  /** The session {@code id} of {@code peer}: the live one, or one handed over from here. */
  PeerSession session(String peer, long id) {
    PeerSession s = sessions.get(peer);
    if (s != null && s.id() == id) {
      return s;
    }
    for (PeerSession back : handedBack.getOrDefault(peer, List.of())) {
      if (back.id() == id) {
        return back;
      }
    }
    return null;
  }

  /** From now on the router no longer finds {@code session} under {@code peer}. */
  void unclaim(String peer, PeerSession session) {
    sessions.remove(peer, session);
    handedBack.computeIfPresent(peer, (p, list) -> {
      List<PeerSession> rest = list.stream().filter(s -> s != session).toList();
      return rest.isEmpty() ? null : rest;
    });
  }
}
