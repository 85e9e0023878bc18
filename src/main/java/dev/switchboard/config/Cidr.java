package dev.switchboard.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IP address block such as {@code 10.0.0.0/8} or {@code fd00::/8}; a bare address is a block
 * of one. Used to say which load balancers may tell a client's address in {@code X-Forwarded-For}.
 */
public record Cidr(byte[] network, int prefixBits) {

  /** Parses {@code a.b.c.d[/n]} or an IPv6 address with an optional {@code /n}; never resolves names. */
  public static Cidr parse(String s) {
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    byte[] bytes = literal(addr);
    if (bytes == null) {
      throw new IllegalArgumentException("'" + addr + "' is not an IP address");
    }
    int bits = bytes.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(s.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("the prefix length after / must be a number");
      }
      if (bits < 0 || bits > bytes.length * 8) {
        throw new IllegalArgumentException("the prefix length must be between 0 and " + bytes.length * 8);
      }
    }
    return new Cidr(bytes, bits);
  }

  /** True when {@code address} (an IP literal) lies in this block. */
  public boolean contains(String address) {
    byte[] a = literal(address);
    if (a == null || a.length != network.length) {
      return false;
    }
    int full = prefixBits / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixBits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[full] & mask) == (network[full] & mask);
  }

  /**
   * The bytes of an IP literal, or {@code null} when {@code s} is not one. IPv4 is parsed here,
   * octet by octet; only a string with a {@code :} (an IPv6 literal) goes to
   * {@link InetAddress#getByName}, which parses such strings without a DNS lookup. Anything else
   * would make {@code getByName} resolve a name, and block the event loop.
   */
  static byte[] literal(String s) {
    if (s == null || s.isEmpty() || s.length() > 45) {
      return null;
    }
    if (s.indexOf(':') < 0) {
      return ipv4(s);
    }
    if (!s.matches("[0-9A-Fa-f:.]+")) {
      return null;
    }
    try {
      return InetAddress.getByName(s).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static byte[] ipv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      if (!parts[i].matches("\\d{1,3}")) {
        return null;
      }
      int octet = Integer.parseInt(parts[i]);
      if (octet > 255) {
        return null;
      }
      out[i] = (byte) octet;
    }
    return out;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixBits;
    } catch (UnknownHostException e) {
      return "?/" + prefixBits;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefixBits == prefixBits && java.util.Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return 31 * java.util.Arrays.hashCode(network) + prefixBits;
  }
}
