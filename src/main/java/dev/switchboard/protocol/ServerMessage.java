package dev.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.List;

/**
 * Encodes server-to-client messages. Each method returns the frame text, encoded once: a
 * relayed message is encoded by the sender's node and written unchanged by the target's node.
 */
public final class ServerMessage {

  private ServerMessage() {
  }

  /**
   * What a resumed {@code welcome} says of the client's last socket: how many of its messages
   * the node got there, or, when the node that counted them died, nothing ({@code received}
   * null, and {@code nodeLost}).
   */
  public record Resumed(Long received) {
  }

  /**
   * What a {@code welcome} says of the room: its {@code mode} ({@code mesh}, {@code broadcast})
   * and {@code media} ({@code p2p}, {@code sfu}); in an sfu room also who publishes now, of what
   * the client may see, and, for a resumed welcome, whether the client's media connections still
   * stand ({@code mediaResumed} false: its session moved to another node, which took a new place
   * in the media room for it; the client publishes again and answers a new subscription).
   */
  public record WelcomeRoom(String mode, String media, List<String> publishers, boolean mediaResumed) {
    /** A peer-to-peer room of {@code mode}. */
    public static WelcomeRoom p2p(String mode) {
      return new WelcomeRoom(mode, "p2p", null, false);
    }
  }

  /**
   * A welcome. {@code resume} is the token for this session's next resume (null: resume is
   * off); {@code resumed} is null for a welcome that starts a session.
   */
  public static String welcome(String peer, String room, String node, Collection<PeerInfo> peers,
                               WelcomeRoom kind, JsonArray iceServers, JsonObject limits, String resume,
                               Resumed resumed) {
    JsonArray list = new JsonArray();
    peers.forEach(p -> list.add(p.toJson()));
    JsonObject w = new JsonObject()
        .put("type", "welcome")
        .put("peer", peer)
        .put("room", room)
        .put("node", node)
        .put("mode", kind.mode())
        .put("media", kind.media())
        .put("peers", list)
        .put("iceServers", iceServers)
        .put("limits", limits)
        .put("resumed", resumed != null);
    if (kind.publishers() != null) {
      w.put("publishers", new JsonArray(kind.publishers()));
      if (resumed != null) {
        w.put("mediaResumed", kind.mediaResumed());
      }
    }
    if (resumed != null && resumed.received() != null) {
      w.put("received", resumed.received());
    } else if (resumed != null) {
      w.put("nodeLost", true);
    }
    if (resume != null) {
      w.put("resume", resume);
    }
    return w.encode();
  }

  /** The media server's answer to a {@code publish}: the publishing connection's remote description. */
  public static String publishAnswer(String sdp, Object id) {
    JsonObject m = new JsonObject().put("type", "publish-answer").put("sdp", sdp);
    if (id != null) {
      m.put("id", id);
    }
    return m.encode();
  }

  public static String peerJoined(PeerInfo info) {
    return info.toJson().put("type", "peer-joined").encode();
  }

  public static String peerLeft(String peer, LeaveReason reason) {
    return new JsonObject()
        .put("type", "peer-left")
        .put("peer", peer)
        .put("reason", reason.wire())
        .encode();
  }

  public static String peerState(String peer, JsonObject state) {
    return new JsonObject().put("type", "peer-state").put("peer", peer).put("state", state).encode();
  }

  /** A relayed {@code offer}, {@code answer}, {@code candidate} or targeted {@code message}. */
  public static String relayed(ClientMessage.Relay relay, String from) {
    JsonObject out = new JsonObject()
        .put("type", relay.kind().wire())
        .put("from", from)
        .put(relay.kind().field(), relay.payload());
    if (relay.kind() == ClientMessage.RelayKind.MESSAGE) {
      out.put("to", relay.to());
    }
    return out.encode();
  }

  /** A room-wide {@code message}. */
  public static String broadcast(Object data, String from) {
    return new JsonObject().put("type", "message").put("from", from).put("data", data).encode();
  }

  public static String roomClosed(String reason) {
    return new JsonObject().put("type", "room-closed").put("reason", reason).encode();
  }

  /** The node is draining: reconnect (through the load balancer) after {@code retryAfterMs}, with {@code resume}. */
  public static String reconnect(String reason, long retryAfterMs) {
    return new JsonObject().put("type", "reconnect").put("reason", reason).put("retryAfterMs", retryAfterMs).encode();
  }

  public static String ack(Object id) {
    return new JsonObject().put("type", "ack").put("id", id).encode();
  }

  public static String error(ErrorCode code, String message, Object id) {
    JsonObject out = new JsonObject()
        .put("type", "error")
        .put("code", code.wire())
        .put("message", message);
    if (id != null) {
      out.put("id", id);
    }
    return out.encode();
  }

  public static String pong(Object id) {
    JsonObject out = new JsonObject().put("type", "pong");
    if (id != null) {
      out.put("id", id);
    }
    return out.encode();
  }
}
