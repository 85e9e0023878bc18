package dev.switchboard.protocol;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * Parses and validates client frames. Pure: no sockets, no event bus. {@link #decode} never
 * throws; every malformed input becomes a {@link Decoded.Rejected} with the protocol's code.
 */
public final class Codec {

  private final int maxMetaBytes;
  private final int maxStateDataBytes;

  /**
   * @param maxMetaBytes      the largest {@code join.meta}, encoded as JSON, in bytes
   * @param maxStateDataBytes the largest {@code state.data}, encoded as JSON, in bytes
   */
  public Codec(int maxMetaBytes, int maxStateDataBytes) {
    this.maxMetaBytes = maxMetaBytes;
    this.maxStateDataBytes = maxStateDataBytes;
  }

  /**
   * True when no number in {@code value} (a parsed JSON tree: maps, lists, scalars) is infinite
   * or NaN. Depth is bounded by the parser's own nesting limit.
   */
  static boolean finite(Object value) {
    if (value instanceof Double d) {
      return Double.isFinite(d);
    }
    if (value instanceof Float f) {
      return Float.isFinite(f);
    }
    if (value instanceof java.util.Map<?, ?> m) {
      for (Object v : m.values()) {
        if (!finite(v)) {
          return false;
        }
      }
    } else if (value instanceof Iterable<?> list) {
      for (Object v : list) {
        if (!finite(v)) {
          return false;
        }
      }
    } else if (value instanceof JsonObject o) {
      return finite(o.getMap());
    } else if (value instanceof io.vertx.core.json.JsonArray a) {
      return finite(a.getList());
    }
    return true;
  }

  /** Decodes one text frame. */
  public Decoded decode(String text) {
    Object parsed;
    try {
      parsed = Json.decodeValue(text);
    } catch (DecodeException | IllegalStateException e) {
      // Jackson's own limits (nesting depth, number length) surface here too.
      return reject(ErrorCode.BAD_REQUEST, "not valid JSON", null, null);
    }
    if (!(parsed instanceof JsonObject json)) {
      return reject(ErrorCode.BAD_REQUEST, "a message must be a JSON object", null, null);
    }
    if (!finite(json.getMap())) {
      // 1e999 parses as Infinity, which would be relayed as the string "Infinity": refuse it.
      return reject(ErrorCode.BAD_REQUEST, "numbers must fit in a double (e.g. 1e999 does not)",
          messageId(json.getValue("id")), null);
    }
    Object rawId = json.getValue("id");
    Object id = messageId(rawId);
    if (rawId != null && id == null) {
      return reject(ErrorCode.BAD_REQUEST,
          "id must be a string of at most " + Ids.MAX_MESSAGE_ID_LENGTH + " characters or an integer",
          null, null);
    }
    Object rawType = json.getValue("type");
    if (!(rawType instanceof String type)) {
      return reject(ErrorCode.BAD_REQUEST, "type must be a string", id, null);
    }
    try {
      return switch (type) {
        case "join" -> join(json, id);
        case "offer" -> relay(json, id, ClientMessage.RelayKind.OFFER);
        case "answer" -> relay(json, id, ClientMessage.RelayKind.ANSWER);
        case "candidate" -> relay(json, id, ClientMessage.RelayKind.CANDIDATE);
        case "message" -> message(json, id);
        case "state" -> state(json, id);
        case "leave" -> new Decoded.Ok(new ClientMessage.Leave(id));
        case "ping" -> new Decoded.Ok(new ClientMessage.Ping(id));
        case "refresh" -> refresh(json, id);
        case "publish" -> publish(json, id);
        case "unpublish" -> new Decoded.Ok(new ClientMessage.Unpublish(id));
        case "subscribe-answer" -> subscribeAnswer(json, id);
        case "trickle" -> trickle(json, id);
        default -> reject(ErrorCode.UNKNOWN_TYPE, "unknown type", id, type);
      };
    } catch (Invalid e) {
      return reject(ErrorCode.BAD_REQUEST, e.getMessage(), id, type);
    }
  }

  private Decoded join(JsonObject json, Object id) {
    String room = requiredId(json, "room");
    String peer = optionalId(json, "peer");
    String token = optionalString(json, "token");
    String resume = optionalString(json, "resume");
    long received = optionalCount(json, "received");
    JsonObject meta = optionalObject(json, "meta", maxMetaBytes);
    String roleName = optionalString(json, "role");
    ClientMessage.Role role = null; // the room's default: the store picks it
    if (roleName != null) {
      role = ClientMessage.Role.fromWire(roleName);
      if (role == null) {
        throw new Invalid("role must be one of peer, presenter, viewer");
      }
    }
    return ok(new ClientMessage.Join(id, room, peer, token, meta == null ? new JsonObject() : meta,
        role, resume, received));
  }

  private Decoded relay(JsonObject json, Object id, ClientMessage.RelayKind kind) {
    String to = requiredId(json, "to");
    Object payload;
    if (kind == ClientMessage.RelayKind.CANDIDATE) {
      if (!json.containsKey("candidate")) {
        throw new Invalid("candidate is required (an object, or null for end of candidates)");
      }
      payload = json.getValue("candidate");
      if (payload != null && !(payload instanceof JsonObject)) {
        throw new Invalid("candidate must be an object or null");
      }
    } else {
      payload = json.getValue("sdp");
      if (!(payload instanceof String)) {
        throw new Invalid("sdp must be a string");
      }
    }
    return ok(new ClientMessage.Relay(id, kind, to, payload));
  }

  private Decoded publish(JsonObject json, Object id) {
    if (!(json.getValue("sdp") instanceof String sdp)) {
      throw new Invalid("sdp must be a string: the publishing connection's offer");
    }
    return ok(new ClientMessage.Publish(id, sdp));
  }

  private Decoded subscribeAnswer(JsonObject json, Object id) {
    if (!(json.getValue("sdp") instanceof String sdp)) {
      throw new Invalid("sdp must be a string: the receiving connection's answer");
    }
    return ok(new ClientMessage.SubscribeAnswer(id, sdp));
  }

  private Decoded refresh(JsonObject json, Object id) {
    if (!(json.getValue("token") instanceof String token)) {
      throw new Invalid("token must be a string: the session's fresh token");
    }
    return ok(new ClientMessage.Refresh(id, token));
  }

  private Decoded trickle(JsonObject json, Object id) {
    Object pc = json.getValue("pc");
    if (!"publish".equals(pc) && !"subscribe".equals(pc)) {
      throw new Invalid("pc must be publish or subscribe");
    }
    if (!json.containsKey("candidate")) {
      throw new Invalid("candidate is required (an object, or null for end of candidates)");
    }
    Object candidate = json.getValue("candidate");
    if (candidate != null && !(candidate instanceof JsonObject)) {
      throw new Invalid("candidate must be an object or null");
    }
    return ok(new ClientMessage.Trickle(id, (String) pc, (JsonObject) candidate));
  }

  private Decoded message(JsonObject json, Object id) {
    if (!json.containsKey("data")) {
      throw new Invalid("data is required");
    }
    Object data = json.getValue("data");
    if (json.containsKey("to")) {
      String to = requiredId(json, "to");
      return ok(new ClientMessage.Relay(id, ClientMessage.RelayKind.MESSAGE, to, data));
    }
    return ok(new ClientMessage.Broadcast(id, data));
  }

  private Decoded state(JsonObject json, Object id) {
    Boolean audio = optionalBoolean(json, "audio");
    Boolean video = optionalBoolean(json, "video");
    JsonObject data = optionalObject(json, "data", maxStateDataBytes);
    return ok(new ClientMessage.State(id, audio, video, data));
  }

  // --- field readers: each throws Invalid with a message a browser developer can act on ---

  private static String requiredId(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v == null) {
      throw new Invalid(field + " is required");
    }
    if (!(v instanceof String s) || !Ids.isValid(s)) {
      throw new Invalid(field + " must match [A-Za-z0-9._-]{1," + Ids.MAX_ID_LENGTH + "}");
    }
    return s;
  }

  private static String optionalId(JsonObject json, String field) {
    return json.getValue(field) == null ? null : requiredId(json, field);
  }

  private static String optionalString(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v != null && !(v instanceof String)) {
      throw new Invalid(field + " must be a string");
    }
    return (String) v;
  }

  /** A non-negative integer, or -1 when absent. */
  private static long optionalCount(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v == null) {
      return -1;
    }
    if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < 0) {
      throw new Invalid(field + " must be a non-negative integer");
    }
    return ((Number) v).longValue();
  }

  private static Boolean optionalBoolean(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v != null && !(v instanceof Boolean)) {
      throw new Invalid(field + " must be true or false");
    }
    return (Boolean) v;
  }

  private static JsonObject optionalObject(JsonObject json, String field, int maxBytes) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonObject o)) {
      throw new Invalid(field + " must be an object");
    }
    if (o.encode().getBytes(StandardCharsets.UTF_8).length > maxBytes) {
      throw new Invalid(field + " must be at most " + maxBytes + " bytes of JSON");
    }
    return o;
  }

  /** A valid message id, or {@code null} if {@code raw} is absent or not a valid id. */
  private static Object messageId(Object raw) {
    if (raw instanceof String s && s.length() <= Ids.MAX_MESSAGE_ID_LENGTH) {
      return s;
    }
    if (raw instanceof Integer || raw instanceof Long) {
      return ((Number) raw).longValue();
    }
    return null;
  }

  private static Decoded ok(ClientMessage m) {
    return new Decoded.Ok(m);
  }

  private static Decoded reject(ErrorCode code, String reason, Object id, String type) {
    return new Decoded.Rejected(code, reason, id, type);
  }

  /** Internal signal for a field that fails validation; never leaves this class. */
  private static final class Invalid extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Invalid(String message) {
      super(message, null, false, false);
    }
  }

}
