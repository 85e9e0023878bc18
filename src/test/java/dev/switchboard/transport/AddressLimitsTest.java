package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.switchboard.config.Cidr;
import dev.switchboard.transport.Refusal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Client addresses behind proxies, per-address limits, and UTF-8 byte counts. */
class AddressLimitsTest {

  private static final List<Cidr> PROXIES = List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"));

  @Test
  @DisplayName("X-Forwarded-For is read from the right, skipping trusted proxies; client-written entries are ignored")
  void forwardedFor() {
    assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", List.of("203.0.113.9"), PROXIES));
    assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", List.of("1.2.3.4, 203.0.113.9, 10.1.1.1"), PROXIES));
    assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", List.of("1.2.3.4", "203.0.113.9"), PROXIES),
        "several headers are one list");
    assertEquals("2001:db8::1", ClientAddress.resolve("10.0.0.1", List.of("[2001:db8::1]:5555, fd00::7"), PROXIES));
    assertEquals("203.0.113.9", ClientAddress.resolve("10.0.0.1", List.of("203.0.113.9:443"), PROXIES));
    assertEquals("10.0.0.1", ClientAddress.resolve("10.0.0.1", List.of(), PROXIES), "no header: the proxy itself");
    assertEquals("10.2.2.2", ClientAddress.resolve("10.0.0.1", List.of("evil-host, 10.2.2.2"), PROXIES),
        "a non-address stops the walk at the last trusted hop");
    assertEquals("10.3.3.3", ClientAddress.resolve("10.0.0.1", List.of("10.3.3.3"), PROXIES),
        "all hops trusted: the leftmost");
  }

  @Test
  @DisplayName("per address: concurrent sockets capped, new sockets rate-limited, other addresses independent")
  void limits() {
    IpLimits limits = new IpLimits(2, 1, 3);
    long t = 1_000;
    assertNull(limits.acquire("a", t));
    assertNull(limits.acquire("a", t));
    assertEquals(Refusal.IP_CONNECTIONS, limits.acquire("a", t));
    assertNull(limits.acquire("b", t));
    limits.release("a");
    assertNull(limits.acquire("a", t), "the third token of the burst");
    limits.release("a");
    assertEquals(Refusal.IP_RATE, limits.acquire("a", t), "the burst of 3 is spent");
    assertNull(limits.acquire("a", t + 1000), "one token a second");
    assertEquals(2, limits.open("a"));
  }

  @Test
  @DisplayName("sweeping drops idle, refilled entries and keeps the rest")
  void sweep() {
    IpLimits limits = new IpLimits(10, 1, 2);
    limits.acquire("idle", 0);
    limits.release("idle");
    limits.acquire("busy", 0);
    limits.sweep(500);
    assertEquals(2, limits.size(), "the idle bucket has not refilled yet");
    limits.sweep(5_000);
    assertEquals(1, limits.size());
    assertEquals(1, limits.open("busy"));
  }

  @Test
  @DisplayName("a full table refuses new addresses, and sweeps for room at most once a second")
  void fullTable() {
    IpLimits limits = new IpLimits(10, 1, 1, 2);
    assertNull(limits.acquire("a", 0));
    limits.release("a");
    assertNull(limits.acquire("b", 0));
    assertEquals(Refusal.IP_TABLE_FULL, limits.acquire("c", 500), "the sweep at 500 ms finds nothing refilled");
    assertEquals(Refusal.IP_TABLE_FULL, limits.acquire("c", 1400), "no second sweep within a second");
    assertNull(limits.acquire("c", 1600), "a's bucket refilled and a is idle: swept, c fits");
    assertEquals(2, limits.size());
  }

  @Test
  @DisplayName("UTF-8 length matches the encoder for ASCII, 2-, 3- and 4-byte characters and lone surrogates")
  void utf8() {
    for (String s : List.of("", "plain", "é", "ж€", "😀 ok", "a\uD800b", "\uDC00", "mixed é € 😀 \uD83D")) {
      assertEquals(s.getBytes(StandardCharsets.UTF_8).length, Utf8.length(s), s);
    }
  }
}
