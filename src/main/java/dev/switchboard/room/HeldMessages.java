package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * What reached a peer while it was away, in arrival order, for its resume: envelopes (relays and
 * room messages; membership events are not held, see {@link PeerInbox#hold}) and frames the
 * session wrote itself (the ack or error answering one of its own relays). Bounded in count and bytes; {@link #hold} refuses
 * what would pass either bound, and the session then ends the peer (it cannot be given everything
 * it missed). Used on the session's event loop only.
 */
final class HeldMessages {

  /** What any other envelope counts for (relays and room messages are what is held in practice). */
  private static final long OTHER_SIZE = 64;

  private final int maxMessages;
  private final long maxBytes;
  private final ArrayDeque<Object> items = new ArrayDeque<>();
  private long bytes;

  HeldMessages(int maxMessages, long maxBytes) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }

  /** Holds an envelope; false (and nothing held) if the bounds would be passed. */
  boolean hold(Envelope envelope) {
    return add(envelope, sizeOf(envelope));
  }

  /** Holds a frame the session wrote; false (and nothing held) if the bounds would be passed. */
  boolean hold(String frame) {
    return add(frame, frame.length());
  }

  private boolean add(Object item, long size) {
    if (items.size() >= maxMessages || bytes + size > maxBytes) {
      return false;
    }
    items.add(item);
    bytes += size;
    return true;
  }

  /** Hands each held item, oldest first, to {@code envelopes} or {@code frames}; then holds nothing. */
  void replay(Consumer<Envelope> envelopes, Consumer<String> frames) {
    Object item;
    while ((item = items.poll()) != null) {
      if (item instanceof Envelope e) {
        envelopes.accept(e);
      } else {
        frames.accept((String) item);
      }
    }
    bytes = 0;
  }

  /** The frame's characters: what the client would be sent (and about what the heap holds). */
  private static long sizeOf(Envelope e) {
    if (e instanceof Envelope.Relay r) {
      return r.frame().length();
    } else if (e instanceof Envelope.RoomMessage m) {
      return m.frame().length();
    }
    return OTHER_SIZE;
  }
}
