package dev.switchboard.cluster;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * The event bus codec of {@link Batch}: {@link WireFormat} between nodes, in the version this
 * node writes; within a node a batch is passed by reference (it is immutable).
 */
final class BatchCodec implements MessageCodec<Batch, Batch> {

  static final String NAME = "sb-batch";

  private final int writeVersion;

  BatchCodec(int writeVersion) {
    if (!WireFormat.canWrite(writeVersion)) {
      throw new IllegalArgumentException("cannot write node-to-node format version " + writeVersion);
    }
    this.writeVersion = writeVersion;
  }

  @Override
  public void encodeToWire(Buffer buffer, Batch batch) {
    WireFormat.write(buffer, batch, writeVersion);
  }

  @Override
  public Batch decodeFromWire(int pos, Buffer buffer) {
    return WireFormat.read(buffer, pos);
  }

  @Override
  public Batch transform(Batch batch) {
    return batch;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
