package dev.switchboard.transport;

import static dev.switchboard.transport.RateLimit.Verdict.ACCEPT;
import static dev.switchboard.transport.RateLimit.Verdict.CLOSE;
import static dev.switchboard.transport.RateLimit.Verdict.REFUSE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("RateLimit")
class RateLimitTest {

  /** The time of the first CLOSE when sending every {@code intervalMs} from 0 to {@code untilMs}, or -1. */
  private static long firstCloseSendingEvery(RateLimit limit, long intervalMs, long fromMs, long untilMs) {
    for (long t = fromMs; t <= untilMs; t += intervalMs) {
      if (limit.take(t) == CLOSE) {
        return t;
      }
    }
    return -1;
  }

  @Test
  @DisplayName("a full bucket accepts a burst of exactly burst messages at once")
  void burstAccepted() {
    RateLimit limit = new RateLimit(10, 5, 5000, 0);
    for (int i = 0; i < 5; i++) {
      assertEquals(ACCEPT, limit.take(0), "message " + i);
    }
  }

  @Test
  @DisplayName("the message after the burst is refused, not closed")
  void refusedAfterBurst() {
    RateLimit limit = new RateLimit(10, 5, 5000, 0);
    for (int i = 0; i < 5; i++) {
      limit.take(0);
    }
    assertEquals(REFUSE, limit.take(0));
    assertEquals(REFUSE, limit.take(0));
  }

  @Test
  @DisplayName("tokens refill at rate per second: one more message after 1/rate seconds")
  void refill() {
    RateLimit limit = new RateLimit(10, 5, 5000, 0);
    for (int i = 0; i < 5; i++) {
      limit.take(0);
    }
    assertEquals(REFUSE, limit.take(50), "half a token is not enough");
    assertEquals(ACCEPT, limit.take(100), "one token after 100 ms at 10/s");
    assertEquals(REFUSE, limit.take(100));
  }

  @Test
  @DisplayName("a long pause refills the bucket only up to burst")
  void refillCappedAtBurst() {
    RateLimit limit = new RateLimit(10, 5, 5000, 0);
    for (int i = 0; i < 5; i++) {
      limit.take(0);
    }
    int accepted = 0;
    for (int i = 0; i < 20; i++) {
      if (limit.take(60_000) == ACCEPT) {
        accepted++;
      }
    }
    assertEquals(5, accepted);
  }

  @Test
  @DisplayName("a single refusal is not a close, even with a zero-length burst of refusals")
  void singleRefusalNotClose() {
    RateLimit limit = new RateLimit(1, 1, 3000, 0);
    assertEquals(ACCEPT, limit.take(0));
    assertEquals(REFUSE, limit.take(0));
  }

  @Test
  @DisplayName("refusals that persist without a gap close the connection once closeAfterMs has passed, not before")
  void closeAfterPersistentRefusals() {
    RateLimit limit = new RateLimit(1, 1, 3000, 0);
    assertEquals(ACCEPT, limit.take(0));
    assertEquals(REFUSE, limit.take(0)); // the streak starts at 0
    for (long t = 10; t < 3000; t += 10) {
      assertNotEquals(CLOSE, limit.take(t), "closed too early at " + t);
    }
    long close = firstCloseSendingEvery(limit, 10, 3000, 3100);
    assertTrue(close >= 3000 && close <= 3020, "expected a close just after 3000 ms, got " + close);
  }

  @Test
  @DisplayName("a refusal more than a second after the previous one starts a new streak")
  void gapResetsStreak() {
    RateLimit limit = new RateLimit(1, 1, 3000, 0);
    limit.take(0);
    assertEquals(REFUSE, limit.take(0)); // streak starts at 0
    for (long t = 10; t <= 2000; t += 10) {
      assertNotEquals(CLOSE, limit.take(t));
    }
    // A quiet 1.5 s: the token refilled, then the next message is refused again.
    assertEquals(ACCEPT, limit.take(3500));
    assertEquals(REFUSE, limit.take(3500)); // a new streak starts at 3500
    for (long t = 3510; t < 6500; t += 10) {
      assertNotEquals(CLOSE, limit.take(t), "the old streak was not reset: closed at " + t);
    }
    long close = firstCloseSendingEvery(limit, 10, 6500, 6600);
    assertTrue(close >= 6500 && close <= 6520, "expected a close just after 6500 ms, got " + close);
  }

  @Test
  @DisplayName("accepted messages between refusals less than a second apart do not reset the streak")
  void acceptsDoNotResetStreak() {
    // 2 tokens a second; a message every 400 ms is accepted, and a second one right after is refused.
    RateLimit limit = new RateLimit(2, 1, 3000, 0);
    long close = -1;
    for (long t = 0; t <= 10_000 && close < 0; t += 400) {
      if (limit.take(t) == CLOSE || limit.take(t) == CLOSE) {
        close = t;
      }
    }
    assertTrue(close >= 3000 && close <= 3400, "expected a close after ~3 s of refusals, got " + close);
  }

  @Test
  @DisplayName("a steady sender at 60/s against 50/s with burst 100 is eventually closed")
  void overRateSenderClosed() {
    RateLimit limit = new RateLimit(50, 100, 5000, 0);
    long firstRefusal = -1;
    long close = -1;
    for (int i = 0; i < 60 * 120 && close < 0; i++) {
      long t = i * 1000L / 60;
      RateLimit.Verdict v = limit.take(t);
      if (v == REFUSE && firstRefusal < 0) {
        firstRefusal = t;
      }
      if (v == CLOSE) {
        close = t;
      }
    }
    if (close < 0) {
      fail("a 60/s sender was never closed (first refusal at " + firstRefusal + " ms)");
    }
    // 100 spare tokens drain at 10/s: refusals start near 10 s, the close comes 5 s later.
    assertTrue(firstRefusal >= 9_000 && firstRefusal <= 11_000, "first refusal at " + firstRefusal);
    assertTrue(close - firstRefusal >= 5000, "closed " + (close - firstRefusal) + " ms after the first refusal");
    assertTrue(close - firstRefusal <= 5200, "closed " + (close - firstRefusal) + " ms after the first refusal");
  }

  @Test
  @DisplayName("a steady sender at 40/s against 50/s is never refused nor closed")
  void underRateSenderNeverClosed() {
    RateLimit limit = new RateLimit(50, 100, 5000, 0);
    for (int i = 0; i < 40 * 600; i++) {
      long t = i * 1000L / 40;
      assertEquals(ACCEPT, limit.take(t), "refused at " + t + " ms");
    }
  }

  @Test
  @DisplayName("a sender that bursts, pauses and bursts again is never closed")
  void burstyButWithinAverage() {
    RateLimit limit = new RateLimit(50, 100, 5000, 0);
    for (int round = 0; round < 60; round++) {
      long t = round * 3000L;
      for (int i = 0; i < 120; i++) {
        assertNotEquals(CLOSE, limit.take(t), "closed in round " + round);
      }
    }
  }
}
