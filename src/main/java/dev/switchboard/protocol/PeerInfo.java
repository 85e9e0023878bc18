package dev.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/** What the others in a room see of a peer: in {@code welcome.peers} and {@code peer-joined}. */
public record PeerInfo(String peer, JsonObject meta, JsonObject state, ClientMessage.Role role) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("peer", peer)
        .put("meta", meta)
        .put("state", state)
        .put("role", role.wire());
  }
}
