package dev.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.Permission;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Cidr parses addresses itself and never resolves a name: it runs on the event loop for every
 * X-Forwarded-For hop, and a string such as 999.999.999.999 would otherwise make
 * InetAddress.getByName do a DNS lookup.
 */
class CidrTest {

  @Test
  @SuppressWarnings("removal")
  void containsNeverResolvesANameForAnOutOfRangeDottedQuad() {
    List<String> lookups = new CopyOnWriteArrayList<>();
    SecurityManager previous = System.getSecurityManager();
    System.setSecurityManager(new SecurityManager() {
      @Override
      public void checkPermission(Permission perm) {
      }

      @Override
      public void checkPermission(Permission perm, Object context) {
      }

      @Override
      public void checkConnect(String host, int port) {
        if (port == -1) {
          lookups.add(host); // InetAddress.getAllByName0: a name-service lookup
        }
      }
    });
    try {
      for (String notAnAddress : List.of("999.999.999.999", "256.0.0.1", "1.2.3", "1.2.3.4.5", "a.b.c.d",
          "localhost", "::zz", "1..2.3")) {
        assertFalse(Cidr.parse("0.0.0.0/0").contains(notAnAddress), notAnAddress);
        assertFalse(Cidr.parse("::/0").contains(notAnAddress), notAnAddress);
      }
      assertTrue(Cidr.parse("0.0.0.0/0").contains("255.255.255.255"));
      assertTrue(Cidr.parse("10.0.0.0/8").contains("010.1.2.3"), "leading zeros are decimal, not octal");
      assertTrue(Cidr.parse("::/0").contains("::ffff:1"));
    } finally {
      System.setSecurityManager(previous);
    }
    assertEquals(List.of(), lookups, "Cidr.contains performed DNS lookups");
  }
}
