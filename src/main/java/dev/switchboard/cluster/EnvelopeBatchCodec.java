package dev.switchboard.cluster;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary codec for {@link EnvelopeBatch}: a count, then each envelope as {@link EnvelopeCodec}
 * writes it. Locally a batch is passed by reference (it is immutable).
 */
public final class EnvelopeBatchCodec extends ImmutableCodec<EnvelopeBatch> {

  public static final String NAME = "sb-envelope-batch";

  public EnvelopeBatchCodec() {
    super(NAME);
  }

  /** More envelopes than a batch can hold ({@link NodeChannel#MAX_BATCH}) mean a corrupt frame. */
  private static final int MAX_COUNT = 1 << 16;

  @Override
  public void encodeToWire(Buffer buffer, EnvelopeBatch batch) {
    buffer.appendInt(batch.envelopes().size());
    for (Envelope e : batch.envelopes()) {
      EnvelopeCodec.write(buffer, e);
    }
  }

  @Override
  public EnvelopeBatch decodeFromWire(int pos, Buffer buffer) {
    int count = buffer.getInt(pos);
    if (count < 0 || count > MAX_COUNT) {
      throw new IllegalArgumentException("envelope batch of " + count);
    }
    int[] at = {pos + 4};
    List<Envelope> envelopes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      envelopes.add(EnvelopeCodec.read(buffer, at));
    }
    return new EnvelopeBatch(envelopes);
  }
}
