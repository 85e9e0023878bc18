package dev.switchboard.media;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
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

  /** Makes the counters {@code switchboard_media_*_total} of {@code registry}, read at each scrape. */
  public void register(MeterRegistry registry) {
    count(registry, "switchboard.media.rooms.started", roomsCreated, "Media rooms this node created in its media server");
    count(registry, "switchboard.media.rooms.destroyed", roomsDestroyed,
        "Media rooms this node destroyed in its media server");
    count(registry, "switchboard.media.participants.joined", participantsJoined,
        "Members of sfu rooms this node joined to their media room (a handle each)");
    count(registry, "switchboard.media.participants.released", participantsReleased,
        "Media room participants this node released (their handle detached)");
  }

  private static void count(MeterRegistry registry, String name, LongAdder adder, String help) {
    FunctionCounter.builder(name, adder, LongAdder::sum).description(help).register(registry);
  }
}
