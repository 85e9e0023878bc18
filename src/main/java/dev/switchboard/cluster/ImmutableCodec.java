package dev.switchboard.cluster;

import io.vertx.core.eventbus.MessageCodec;

/**
 * A codec for an immutable body: locally the body is passed by reference ({@link #transform}
 * returns it), only the wire form is written and read.
 */
abstract class ImmutableCodec<T> implements MessageCodec<T, T> {

  private final String name;

  ImmutableCodec(String name) {
    this.name = name;
  }

  @Override
  public final T transform(T body) {
    return body;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final byte systemCodecID() {
    return -1;
  }
}
