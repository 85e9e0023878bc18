package dev.switchboard.media;

import java.util.concurrent.atomic.LongAdder;

/**
 * What this node did with its media server, for {@code /metrics}: media rooms created and
 * destroyed, participants joined and released. A participant joined and not released is a
 * handle held in Janus: the two counters' difference is what the node holds now, and it should
 * fall back to zero when its sfu rooms empty.
 */
public final class MediaCounters {

  final LongAdder roomsCreated = new LongAdder();
  final LongAdder roomsDestroyed = new LongAdder();
  final LongAdder participantsJoined = new LongAdder();
  final LongAdder participantsReleased = new LongAdder();

  public long roomsCreated() {
    return roomsCreated.sum();
  }

  public long roomsDestroyed() {
    return roomsDestroyed.sum();
  }

  public long participantsJoined() {
    return participantsJoined.sum();
  }

  public long participantsReleased() {
    return participantsReleased.sum();
  }
}
