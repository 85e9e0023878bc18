package dev.switchboard.transport;

import dev.switchboard.protocol.CloseCode;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns a socket's data frames into messages, in place of Vert.x's text and binary message
 * handlers, for two reasons: Vert.x decodes text leniently (invalid UTF-8 becomes U+FFFD and
 * would be relayed to other peers), where RFC 6455 §8.1 requires closing with 1007; and a binary
 * message is refused anyway, so its bytes are counted, never buffered.
 *
 * <p>Frame order (no new message inside a fragmented one) is already enforced by Netty's decoder,
 * and each frame's size by {@code maxWebSocketFrameSize}; this class bounds the sum of a
 * fragmented message's frames by the same limit. Used on the socket's event loop only.
 */
final class InboundMessages implements Handler<WebSocketFrame> {

  /** Where messages go; all calls happen on the socket's event loop. */
  interface Sink {
    /** A complete text message, valid UTF-8. */
    void text(String message);

    /** A complete binary message (its bytes were dropped). */
    void binary();

    /** The peer broke the protocol: close with {@code code}. Nothing more is delivered. */
    void violation(short code, String reason);
  }

  private final int maxBytes;
  private final Sink sink;
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);
  /** The text frames of a fragmented message so far, or {@code null}. */
  private Buffer partial;
  /** True inside a fragmented binary message; its size so far. */
  private boolean inBinary;
  private long binaryBytes;
  private boolean broken;

  InboundMessages(int maxBytes, Sink sink) {
    this.maxBytes = maxBytes;
    this.sink = sink;
  }

  @Override
  public void handle(WebSocketFrame frame) {
    if (broken) {
      return;
    }
    if (frame.isText()) {
      if (frame.isFinal()) {
        decode(frame.binaryData());
      } else {
        partial = frame.binaryData().copy();
        checkSize(partial.length());
      }
    } else if (frame.isBinary()) {
      binaryBytes = frame.binaryData().length();
      inBinary = !frame.isFinal();
      if (!inBinary) {
        sink.binary();
      }
    } else if (frame.isContinuation()) {
      if (inBinary) {
        binaryBytes += frame.binaryData().length();
        if (checkSize(binaryBytes) && frame.isFinal()) {
          inBinary = false;
          sink.binary();
        }
      } else if (partial != null) {
        partial.appendBuffer(frame.binaryData());
        if (checkSize(partial.length()) && frame.isFinal()) {
          Buffer whole = partial;
          partial = null;
          decode(whole);
        }
      }
    }
  }

  private boolean checkSize(long bytes) {
    if (bytes > maxBytes) {
      fail(CloseCode.TOO_LARGE, "message larger than " + maxBytes + " bytes");
      return false;
    }
    return true;
  }

  private void decode(Buffer bytes) {
    String text;
    try {
      text = utf8.reset().decode(ByteBuffer.wrap(bytes.getBytes())).toString();
    } catch (CharacterCodingException e) {
      fail(CloseCode.INVALID_DATA, "text frame is not valid UTF-8");
      return;
    }
    sink.text(text);
  }

  private void fail(short code, String reason) {
    broken = true;
    partial = null;
    sink.violation(code, reason);
  }
}
