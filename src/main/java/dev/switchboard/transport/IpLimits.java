package dev.switchboard.transport;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-client-address limits of one node, shared by all its event loops: concurrent sockets, and
 * new sockets per second (a token bucket). Every address is one entry, updated atomically; an
 * entry with no open socket and a full bucket carries no information and is swept away, and the
 * table never holds more than {@link #MAX_ADDRESSES} entries.
 */
public final class IpLimits {

  /**
   * Addresses tracked at once. An entry is about 150 bytes, so the table stays under 16 MB; a
   * node is capped far below this many sockets, so only a flood of one-shot addresses fills it,
   * and then new addresses are refused until a sweep frees entries.
   */
  static final int MAX_ADDRESSES = 100_000;
  /**
   * While the table is full, a new address triggers a sweep at most this often: a sweep walks
   * every entry, and a flood of new addresses must not make each connect pay for one.
   */
  static final long FULL_SWEEP_EVERY_MS = 1000;

  private final int maxOpen;
  private final double perMs;
  private final int burst;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong lastFullSweep = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE / 2);

  private static final class Entry {
    int open;
    double tokens;
    long refilledAt;

    Entry(int burst, long now) {
      this.tokens = burst;
      this.refilledAt = now;
    }
  }

  private final int maxAddresses;

  public IpLimits(int maxOpen, int ratePerSecond, int burst) {
    this(maxOpen, ratePerSecond, burst, MAX_ADDRESSES);
  }

  IpLimits(int maxOpen, int ratePerSecond, int burst, int maxAddresses) {
    this.maxAddresses = maxAddresses;
    this.maxOpen = maxOpen;
    this.perMs = ratePerSecond / 1000.0;
    this.burst = burst;
  }

  /**
   * Takes one socket for {@code address}: {@code null} when it may open, else why not. A socket
   * taken must be {@link #release released} once, when it closes.
   */
  public Refusal acquire(String address, long nowMs) {
    if (entries.size() >= maxAddresses && !entries.containsKey(address)) {
      long last = lastFullSweep.get();
      if (nowMs - last >= FULL_SWEEP_EVERY_MS && lastFullSweep.compareAndSet(last, nowMs)) {
        sweep(nowMs);
      }
      if (entries.size() >= maxAddresses) {
        return Refusal.IP_TABLE_FULL;
      }
    }
    Refusal[] verdict = new Refusal[1];
    entries.compute(address, (k, old) -> {
      Entry n = old != null ? old : new Entry(burst, nowMs);
      n.tokens = Math.min(burst, n.tokens + (nowMs - n.refilledAt) * perMs);
      n.refilledAt = nowMs;
      if (n.open >= maxOpen) {
        verdict[0] = Refusal.IP_CONNECTIONS;
      } else if (n.tokens < 1) {
        verdict[0] = Refusal.IP_RATE;
      } else {
        n.tokens -= 1;
        n.open++;
      }
      return n;
    });
    return verdict[0];
  }

  /** Gives back a socket taken by {@link #acquire}. */
  public void release(String address) {
    entries.computeIfPresent(address, (k, e) -> {
      e.open = Math.max(0, e.open - 1);
      return e;
    });
  }

  /** Drops the entries that hold nothing: no open socket and a bucket that has refilled. */
  public void sweep(long nowMs) {
    for (String address : entries.keySet()) {
      entries.computeIfPresent(address, (k, e) -> {
        double tokens = Math.min(burst, e.tokens + (nowMs - e.refilledAt) * perMs);
        return e.open == 0 && tokens >= burst ? null : e;
      });
    }
  }

  /** Addresses tracked now. */
  public int size() {
    return entries.size();
  }

  /** Open sockets counted for {@code address}. */
  int open(String address) {
    Entry e = entries.get(address);
    return e == null ? 0 : e.open;
  }
}
