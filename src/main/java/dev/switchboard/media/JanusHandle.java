package dev.switchboard.media;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * One plugin handle on a {@link JanusLink}: what a peer publishes or subscribes through, or the
 * node's handle for room requests. Its {@code opaque_id} names who it is for. Requests go
 * through the link (one outcome each); Janus's own events for the handle (a publisher joined,
 * a renegotiation offer, {@code webrtcup}, {@code hangup}) go to its {@link Listener}, on the
 * link's event loop. A {@code detached} the node did not ask for is {@link Listener#lost}.
 */
public final class JanusHandle {

  /** What the handle's owner hears. */
  public interface Listener {
    /** An event Janus sent for the handle that answers no request. */
    void event(JsonObject message);

    /**
     * The handle is gone with its session, once: the link went down, or Janus detached the
     * handle by itself (as it times the session out; that {@code detached} can come first).
     */
    void lost();

    /** A listener for a handle whose events do not matter (the node's handle for room requests). */
    static Listener ignoring() {
      return new Listener() {
        @Override
        public void event(JsonObject message) {
        }

        @Override
        public void lost() {
        }
      };
    }
  }

  /** An asynchronous request's outcome: the plugin's data, and the SDP Janus sent with it (null if none). */
  public record Reply(JsonObject data, JsonObject jsep) {
  }

  private final JanusLink link;
  private final long id;
  private final String opaqueId;
  private final Listener listener;

  JanusHandle(JanusLink link, long id, String opaqueId, Listener listener) {
    this.link = link;
    this.id = id;
    this.opaqueId = opaqueId;
    this.listener = listener;
  }

  public long id() {
    return id;
  }

  public String opaqueId() {
    return opaqueId;
  }

  /**
   * A synchronous plugin request ({@code create}, {@code destroy}, {@code exists},
   * {@code listparticipants}, {@code kick}): the plugin's data, or a {@link JanusError} with
   * the plugin's {@code error_code}.
   */
  public Future<JsonObject> request(JsonObject body) {
    return link.request(id, new JsonObject().put("janus", "message").put("body", body), JanusLink.Answer.SYNC)
        .compose(JanusHandle::pluginData);
  }

  /**
   * An asynchronous plugin request ({@code join}, {@code publish}, {@code start},
   * {@code subscribe}, {@code leave} ...), with {@code jsep} if not null: the event that answers
   * it, with Janus's SDP if it sent one.
   */
  public Future<Reply> message(JsonObject body, JsonObject jsep) {
    JsonObject request = new JsonObject().put("janus", "message").put("body", body);
    if (jsep != null) {
      request.put("jsep", jsep);
    }
    return link.request(id, request, JanusLink.Answer.ASYNC)
        .compose(answer -> pluginData(answer).map(data -> new Reply(data, answer.getJsonObject("jsep"))));
  }

  /**
   * Hands Janus a candidate of the browser's ({@code {sdpMid, sdpMLineIndex, candidate}}), or
   * {@code {completed: true}} at the end of gathering.
   */
  public Future<Void> trickle(JsonObject candidate) {
    return link.request(id, new JsonObject().put("janus", "trickle").put("candidate", candidate),
        JanusLink.Answer.ACK).mapEmpty();
  }

  /** Detaches the handle: Janus closes its PeerConnection and leaves its room. */
  public Future<Void> detach() {
    link.forget(id);
    return link.request(id, new JsonObject().put("janus", "detach"), JanusLink.Answer.SYNC).mapEmpty();
  }

  void event(JsonObject message) {
    listener.event(message);
  }

  void linkLost() {
    listener.lost();
  }

  /** The plugin's answer inside a {@code success} or {@code event}; its {@code error_code} as a failure. */
  static Future<JsonObject> pluginData(JsonObject answer) {
    JsonObject plugindata = answer.getJsonObject("plugindata");
    JsonObject data = plugindata == null ? new JsonObject() : plugindata.getJsonObject("data", new JsonObject());
    if (data.containsKey("error_code")) {
      return Future.failedFuture(new JanusError(data.getInteger("error_code"), data.getString("error", ""), true));
    }
    return Future.succeededFuture(data);
  }
}
