package dev.switchboard.room;

import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.PeerInfo;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A room as the store listed it (after a join, a restore or a read), in the shapes a session
 * needs: where each member is, for the node's {@link RoomView}; the nodes holding members, to
 * announce to; and the other members as a client is told of them.
 *
 * @param members where each member is, the session's own peer included
 * @param nodes   the distinct nodes holding members
 * @param others  every member but the session's own peer, by id, as {@code welcome} lists them
 */
record RoomListing(List<RoomView.Member> members, Set<String> nodes, Map<String, PeerInfo> others) {

  /** The listing of {@code stored}, seen by {@code self}. */
  static RoomListing of(List<RoomStore.StoredMember> stored, String self) {
    List<RoomView.Member> members = new ArrayList<>(stored.size());
    Set<String> nodes = new LinkedHashSet<>();
    Map<String, PeerInfo> others = new LinkedHashMap<>();
    for (RoomStore.StoredMember m : stored) {
      members.add(new RoomView.Member(m.peer(), m.node(), m.seq()));
      nodes.add(m.node());
      if (!m.peer().equals(self)) {
        JsonObject rec = m.record();
        others.put(m.peer(), new PeerInfo(m.peer(), rec.getJsonObject("meta", new JsonObject()),
            rec.getJsonObject("state", new JsonObject()),
            ClientMessage.Role.fromWire(rec.getString("role", "peer"))));
      }
    }
    return new RoomListing(members, nodes, others);
  }

  /**
   * The listing as a member of {@code role} is shown it: a broadcast room's viewer sees only the
   * presenter; everyone else sees every member.
   */
  RoomListing visibleTo(ClientMessage.Role role) {
    if (role != ClientMessage.Role.VIEWER) {
      return this;
    }
    Map<String, PeerInfo> presenter = new LinkedHashMap<>();
    others.forEach((id, info) -> {
      if (info.role() == ClientMessage.Role.PRESENTER) {
        presenter.put(id, info);
      }
    });
    return new RoomListing(members, nodes, presenter);
  }
}
