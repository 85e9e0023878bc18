package dev.switchboard.cluster;

import java.util.List;

/**
 * Envelopes from one event loop to one node, sent as one event bus message: what one turn of
 * that loop produced for the node, in the order it produced them (see {@link NodeChannel}).
 */
public record EnvelopeBatch(List<Envelope> envelopes) {

  public EnvelopeBatch {
    envelopes = List.copyOf(envelopes);
  }
}
