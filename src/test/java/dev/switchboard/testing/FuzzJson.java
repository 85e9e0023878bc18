package dev.switchboard.testing;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fuzzed JSON for the fuzz tests: values, ids and message ids drawn from a {@link FuzzedDataProvider},
 * mostly well-formed so that the fuzzer gets past the parser, and a few ways to mangle the text of
 * a frame. Also the checks shared by the fuzz tests (what a server frame must look like).
 */
public final class FuzzJson {

  /** Ids that are valid but look like Java names: an error may echo them, and that is no leak. */
  private static final List<String> SPICY_IDS = List.of("java.lang.NullPointerException", "a", "A.b_c-9",
      "x".repeat(64), "dev.switchboard.room.PeerSession", "0", "-", ".", "..", "_");
  /** Invalid ids: too long, empty, characters outside {@code [A-Za-z0-9._-]}. */
  private static final List<String> BAD_IDS = List.of("", "y".repeat(65), "a b", "a/b", "é", "a\u0000",
      "\ud83d\ude00", "{room}", "a:b", "<script>", "\ud800");

  private FuzzJson() {
  }

  /** Any JSON value (null, boolean, number, string, array, object), nested at most {@code depth} deep. */
  public static Object value(FuzzedDataProvider d, int depth) {
    int kind = d.consumeInt(0, depth > 0 ? 8 : 6);
    return switch (kind) {
      case 0 -> null;
      case 1 -> d.consumeBoolean();
      case 2 -> d.consumeInt();
      case 3 -> d.consumeLong();
      case 4 -> d.consumeRegularDouble();
      case 5 -> d.consumeString(40);
      case 6 -> d.consumeAsciiString(20);
      case 7 -> array(d, depth - 1);
      default -> object(d, depth - 1);
    };
  }

  public static JsonArray array(FuzzedDataProvider d, int depth) {
    JsonArray a = new JsonArray();
    int n = d.consumeInt(0, 4);
    for (int i = 0; i < n; i++) {
      a.add(value(d, depth));
    }
    return a;
  }

  public static JsonObject object(FuzzedDataProvider d, int depth) {
    JsonObject o = new JsonObject();
    int n = d.consumeInt(0, 4);
    for (int i = 0; i < n; i++) {
      o.put(d.consumeBoolean() ? d.pickValue(List.of("name", "sdp", "candidate", "data", "type", "id", "a"))
          : d.consumeString(12), value(d, depth));
    }
    return o;
  }

  /** An id from {@code preferred} most of the time, else a fuzzed, a Java-looking or an invalid one. */
  public static String id(FuzzedDataProvider d, List<String> preferred) {
    return switch (d.consumeInt(0, 5)) {
      case 0, 1 -> preferred.isEmpty() ? "p" : d.pickValue(preferred);
      case 2 -> d.pickValue(SPICY_IDS);
      case 3 -> d.pickValue(BAD_IDS);
      default -> d.consumeString(70);
    };
  }

  /** A message id: absent ({@code null}), an integer, a string, or something that is not an id. */
  public static Object messageId(FuzzedDataProvider d) {
    return switch (d.consumeInt(0, 9)) {
      case 0, 1, 2 -> null;
      case 3, 4 -> d.consumeInt(0, 1000);
      case 5, 6 -> "m" + d.consumeInt(0, 9);
      case 7 -> d.consumeLong();
      case 8 -> d.consumeString(70);
      default -> d.consumeBoolean() ? d.consumeRegularDouble() : value(d, 1);
    };
  }

  /**
   * Mangles a frame's text: cut short, a character inserted, replaced or removed, keys or
   * values duplicated, nesting added. Whatever comes out is one text frame.
   */
  public static String mangle(FuzzedDataProvider d, String text) {
    int at = text.isEmpty() ? 0 : d.consumeInt(0, text.length() - 1);
    return switch (d.consumeInt(0, 7)) {
      case 0 -> text.substring(0, at);
      case 1 -> text.substring(0, at) + d.consumeString(8) + text.substring(at);
      case 2 -> text.isEmpty() ? text : text.substring(0, at) + d.consumeString(1) + text.substring(at + 1);
      case 3 -> text.isEmpty() ? text : text.substring(0, at) + text.substring(Math.min(text.length(),
          at + 1 + d.consumeInt(0, 8)));
      case 4 -> text.endsWith("}") ? text.substring(0, text.length() - 1) + "," + text.substring(1) : text + text;
      case 5 -> "[" + text + "]";
      case 6 -> "{\"type\":" + text + "}";
      default -> "[".repeat(d.consumeInt(1, 3000)) + text;
    };
  }

  // --- checks on what the server writes ---

  /** Server message types, as listed in the protocol. */
  public static final List<String> SERVER_TYPES = List.of("welcome", "peer-joined", "peer-left", "offer", "answer",
      "candidate", "message", "peer-state", "ack", "error", "pong", "reconnect", "room-closed");

  /** A Java class name, a stack frame, or the name of a Java exception or error. */
  private static final Pattern JAVA = Pattern.compile(
      "(?:\\b(?:java|javax|jdk|sun|io\\.vertx|io\\.netty|com\\.fasterxml|com\\.hazelcast|dev\\.switchboard)\\.[A-Za-z_$]"
          + "|\\bat [\\w$.]+\\(|\\.java:\\d+|\\b[A-Z]\\w*(?:Exception|Error)\\b|\\n\\s*at\\s)");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._$-]+");

  /**
   * Parses one frame the server wrote: a JSON object with a string {@code type} the protocol
   * lists. Throws {@link AssertionError} naming the frame otherwise.
   */
  public static JsonObject serverFrame(String frame) {
    Object parsed;
    try {
      parsed = Json.decodeValue(frame);
    } catch (DecodeException e) {
      throw new AssertionError("the server wrote a frame that is not JSON: " + abbreviate(frame), e);
    }
    if (!(parsed instanceof JsonObject json)) {
      throw new AssertionError("the server wrote a frame that is not a JSON object: " + abbreviate(frame));
    }
    if (!(json.getValue("type") instanceof String type)) {
      throw new AssertionError("the server wrote a frame without a string type: " + abbreviate(frame));
    }
    if (!SERVER_TYPES.contains(type)) {
      throw new AssertionError("the server wrote a frame of a type the protocol does not list: " + abbreviate(frame));
    }
    return json;
  }

  /**
   * Fails if {@code text} (an error message or close reason meant for people) names a Java class,
   * an exception or a stack frame. A token that occurs in what the client sent is the client's
   * own (an id echoed back) and is not held against the server.
   */
  public static void assertNoJavaLeak(String text, String what, List<String> sent) {
    Matcher m = JAVA.matcher(text);
    while (m.find()) {
      Matcher token = TOKEN.matcher(text);
      String offending = null;
      while (token.find()) {
        if (token.start() <= m.start() && token.end() > m.start()) {
          offending = token.group();
        }
      }
      String echoed = offending;
      if (offending == null || sent.stream().noneMatch(s -> s.contains(echoed))) {
        throw new AssertionError(what + " leaks Java internals (" + m.group() + "): " + abbreviate(text));
      }
    }
  }

  public static String abbreviate(String s) {
    if (s == null) {
      return "null";
    }
    String quoted = s.length() > 300 ? s.substring(0, 300) + "...(" + s.length() + " chars)" : s;
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < quoted.length(); i++) {
      char c = quoted.charAt(i);
      if (c < 0x20 || (c >= 0x7f && c < 0xa0) || Character.isSurrogate(c)) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
