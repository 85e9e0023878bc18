package dev.switchboard.room;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What a resume sends again: the frames after the client's count, membership aside, while all are kept. */
class SessionSocketTest {

  private final Vertx vertx = Vertx.vertx();
  private final Context loop = vertx.getOrCreateContext();
  private final List<String> written = new ArrayList<>();
  private final List<String> held = new ArrayList<>();
  private final PeerSocket socket = new PeerSocket() {
    @Override
    public boolean send(String frame) {
      return written.add(frame);
    }

    @Override
    public void close(short code, String reason) {
    }
  };

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private SessionSocket socket(int maxKept) {
    return new SessionSocket(loop, socket, loop, held::add, maxKept, 1 << 20);
  }

  @Test
  @DisplayName("after a welcome, frames are counted; a resume sends again those after the count, not membership")
  void since() {
    SessionSocket s = socket(10);
    assertEquals(List.of(), s.since(0), "before any welcome nothing is counted");
    s.send("early");
    s.welcome("welcome");
    s.send("m1");
    s.sendMembership("peer-joined");
    s.send("m2");
    s.send("m3");
    assertEquals(List.of("early", "welcome", "m1", "peer-joined", "m2", "m3"), written);
    assertEquals(List.of("m1", "m2", "m3"), s.since(0));
    assertEquals(List.of("m2", "m3"), s.since(1));
    assertEquals(List.of("m2", "m3"), s.since(2), "frame 2 was membership: nothing to send again for it");
    assertEquals(List.of(), s.since(4));
    assertNull(s.since(5), "more than was sent: the count cannot be trusted");
    assertEquals(List.of(), s.since(-1), "a client that did not count gets nothing again");
  }

  @Test
  @DisplayName("once a frame the client may have missed is no longer kept, the resume cannot be whole: null")
  void evicted() {
    SessionSocket s = socket(2);
    s.welcome("welcome");
    s.send("m1");
    s.send("m2");
    s.send("m3");
    assertNull(s.since(0), "m1 fell out");
    assertEquals(List.of("m2", "m3"), s.since(1));
    s.welcome("welcome again");
    assertEquals(List.of(), s.since(0), "a welcome starts the count again");
  }

  @Test
  @DisplayName("with no socket, frames go to the hold and are neither written nor counted")
  void away() {
    SessionSocket s = socket(10);
    s.welcome("welcome");
    s.send("m1");
    s.detach();
    s.send("while away");
    assertEquals(List.of("while away"), held);
    assertEquals(List.of("welcome", "m1"), written);
    assertEquals(List.of("m1"), s.since(0));
  }
}
