package dev.switchboard.transport;

/**
 * A token bucket per connection ({@code rate} messages a second, bursts of {@code burst}), and
 * the rule for persistent abuse: a connection whose messages keep being refused, with no quiet
 * second between refusals, for {@code closeAfterMs}, is to be closed. Not thread-safe: one per
 * connection, used on its event loop. Time is passed in, so it is testable without clocks.
 */
final class RateLimit {

  /** A refusal more than this long after the previous one starts a new streak. */
  static final long STREAK_GAP_MS = 1000;

  enum Verdict { ACCEPT, REFUSE, CLOSE }

  private final double perMs;
  private final double burst;
  private final long closeAfterMs;
  private double tokens;
  private long last;
  private long streakStart = -1;
  private long lastRefusal;

  RateLimit(int rate, int burst, long closeAfterMs, long nowMs) {
    this.perMs = rate / 1000.0;
    this.burst = burst;
    this.closeAfterMs = closeAfterMs;
    this.tokens = burst;
    this.last = nowMs;
  }

  Verdict take(long nowMs) {
    tokens = Math.min(burst, tokens + (nowMs - last) * perMs);
    last = nowMs;
    if (tokens >= 1) {
      tokens -= 1;
      return Verdict.ACCEPT;
    }
    if (streakStart < 0 || nowMs - lastRefusal > STREAK_GAP_MS) {
      streakStart = nowMs;
    }
    lastRefusal = nowMs;
    return nowMs - streakStart >= closeAfterMs ? Verdict.CLOSE : Verdict.REFUSE;
  }
}
