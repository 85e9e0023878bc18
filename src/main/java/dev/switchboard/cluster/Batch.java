package dev.switchboard.cluster;

import java.util.List;

/**
 * Envelopes from one sending stream of one node to one address, sent as one event bus message:
 * what one event-loop turn produced for that address, in the order it produced them.
 *
 * @param origin  the sending node
 * @param stream  the sending stream (one per sending event loop), 0 when unnumbered
 * @param seq     the batch's number on its stream and address, from 1; 0 when unnumbered. The
 *                receiver counts gaps, so a change in the event bus's ordering shows in production
 * @param version the wire format version it was read in ({@link WireFormat#VERSION} for one not read from the wire)
 * @param skipped entries the reader did not know and skipped (a newer node's kinds)
 */
public record Batch(String origin, int stream, long seq, List<Envelope> envelopes, int version, int skipped) {

  /** A batch to send: {@code envelopes} must not change after this. */
  public static Batch of(String origin, int stream, long seq, List<Envelope> envelopes) {
    return new Batch(origin, stream, seq, envelopes, WireFormat.VERSION, 0);
  }

  /** An unnumbered batch of one envelope (sends from outside an event loop). */
  public static Batch of(String origin, Envelope envelope) {
    return of(origin, 0, 0, List.of(envelope));
  }
}
