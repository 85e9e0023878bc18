package dev.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * A message from a browser, parsed and validated by {@link Codec#decode}. Every message carries
 * the client's optional {@code id} (a {@code String} or a {@code Long}), repeated in the
 * {@code ack} or {@code error} it causes.
 */
public sealed interface ClientMessage {

  /** The client's message id: {@code null}, a {@code String} or a {@code Long}. */
  Object id();

  /** The wire {@code type}. */
  String type();

  /**
   * Enter a room. {@code peer} is {@code null} when the server should pick one. With
   * {@code resume}, take back the session that token belongs to; {@code received} is how many
   * messages the client got after that session's last welcome ({@code pong}s not counted), or
   * -1 when it did not say. {@code role} is null for the room's default ({@code viewer} in a
   * broadcast room, {@code peer} in a mesh room).
   */
  record Join(Object id, String room, String peer, String token, JsonObject meta, Role role,
              String resume, long received) implements ClientMessage {
    public String type() {
      return "join";
    }
  }

  /**
   * A message relayed to one peer: {@code offer}, {@code answer}, {@code candidate}, or a
   * targeted {@code message}. {@code payload} is the value relayed ({@code sdp}, the
   * {@code candidate} object or {@code null}, or the message {@code data}).
   */
  record Relay(Object id, RelayKind kind, String to, Object payload) implements ClientMessage {
    public String type() {
      return kind.wire();
    }
  }

  /** An application message to every other peer of the room. */
  record Broadcast(Object id, Object data) implements ClientMessage {
    public String type() {
      return "message";
    }
  }

  /** A change of this peer's published state; absent fields ({@code null}) are left as they were. */
  record State(Object id, Boolean audio, Boolean video, JsonObject data) implements ClientMessage {
    public String type() {
      return "state";
    }
  }

  record Leave(Object id) implements ClientMessage {
    public String type() {
      return "leave";
    }
  }

  record Ping(Object id) implements ClientMessage {
    public String type() {
      return "ping";
    }
  }

  /**
   * A fresh token for the session, before the one it joined (or last refreshed) with expires:
   * it must grant the same room, peer and role; it changes none of them.
   */
  record Refresh(Object id, String token) implements ClientMessage {
    public String type() {
      return "refresh";
    }
  }

  /** A message about the peer's media in an {@code sfu} room: the node handles it with the media server. */
  sealed interface Media extends ClientMessage {
  }

  /** Publish, or renegotiate what is published: {@code sdp} is the publishing connection's offer. */
  record Publish(Object id, String sdp) implements Media {
    public String type() {
      return "publish";
    }
  }

  /** The answer of the receiving connection to the server's last {@code subscribe-offer}. */
  record SubscribeAnswer(Object id, String sdp) implements Media {
    public String type() {
      return "subscribe-answer";
    }
  }

  /** Stop publishing. */
  record Unpublish(Object id) implements Media {
    public String type() {
      return "unpublish";
    }
  }

  /**
   * A candidate of the peer's publishing or subscribing connection ({@code pc}), for the media
   * server; {@code candidate} null at the end of gathering.
   */
  record Trickle(Object id, String pc, JsonObject candidate) implements Media {
    public String type() {
      return "trickle";
    }
  }

  /** What a relayed message is; each kind names its payload field. */
  enum RelayKind {
    OFFER("offer", "sdp"),
    ANSWER("answer", "sdp"),
    CANDIDATE("candidate", "candidate"),
    MESSAGE("message", "data");

    private final String wire;
    private final String field;

    RelayKind(String wire, String field) {
      this.wire = wire;
      this.field = field;
    }

    public String wire() {
      return wire;
    }

    /** The name of the payload field, on the way in and on the way out. */
    public String field() {
      return field;
    }
  }

  /** A peer's role in its room. Mesh rooms know only {@link #PEER}. */
  enum Role {
    PEER("peer"),
    PRESENTER("presenter"),
    VIEWER("viewer");

    private final String wire;

    Role(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }

    public static Role fromWire(String s) {
      for (Role r : values()) {
        if (r.wire.equals(s)) {
          return r;
        }
      }
      return null;
    }
  }
}
