package dev.switchboard.room;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The answers a session taken over from another node still awaits from it: the ids of the
 * peer's relays that node had not had answered at the hand-over. Their answers come on from it
 * as frames, each crossing its id off; if that node leaves the cluster first, the ids left get
 * {@code unavailable} here, so every id is answered once. At most {@link PendingAcks#MAX}. Used on
 * the session's event loop only.
 */
final class InheritedAnswers {

  private final String from;
  /** By the id's JSON text (ids are strings or numbers), the id as the client sent it. */
  private final Map<String, Object> ids = new LinkedHashMap<>();

  /** The ids in {@code pending} (a JSON array), awaited from node {@code from}. */
  InheritedAnswers(String from, String pending) {
    this.from = from;
    if (pending != null) {
      for (Object id : new JsonArray(pending)) {
        if (ids.size() < PendingAcks.MAX) {
          ids.put(new JsonArray().add(id).encode(), id);
        }
      }
    }
  }

  boolean isEmpty() {
    return ids.isEmpty();
  }

  /** A frame the old node passed on: if it is the ack or error of an awaited id, that id is answered. */
  void passedOn(String frame) {
    if (ids.isEmpty()) {
      return;
    }
    try {
      JsonObject f = new JsonObject(frame);
      String type = f.getString("type");
      if (("ack".equals(type) || "error".equals(type)) && f.containsKey("id")) {
        ids.remove(new JsonArray().add(f.getValue("id")).encode());
      }
    } catch (DecodeException | ClassCastException notAnAnswer) {
      // frames are the node's own JSON; anything else answers nothing
    }
  }

  /** Node {@code node} left the cluster: if it is the old node, the ids it will never answer. */
  List<Object> lost(String node) {
    if (!from.equals(node)) {
      return List.of();
    }
    List<Object> out = new ArrayList<>(ids.values());
    ids.clear();
    return out;
  }
}
