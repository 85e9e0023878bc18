package dev.switchboard.auth;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * The {@code Origin} check of WebSocket upgrades. Browsers attach the page's origin to every
 * WebSocket handshake and let any page open a socket to any host, so without this check another
 * site's page could use a visitor's browser (its cookies, its network position) to join rooms.
 *
 * <p>Allowed: a handshake without {@code Origin} (not a browser: a browser always sends it, and a
 * non-browser client could send any value anyway); the node's own public URL
 * ({@code node.public-url}); and any origin on the list, where {@code *} allows every origin and
 * {@code https://*.example.com} allows the subdomains of {@code example.com} (not
 * {@code example.com} itself).
 *
 * <p>The request's {@code Host} header is deliberately not trusted as "same origin": under DNS
 * rebinding, a page of {@code http://attacker.example} whose name now resolves to the node sends
 * {@code Host: attacker.example} and its own origin, and would pass.
 */
public final class Origins {

  private final List<String> allowed;
  private final boolean any;
  private final String own;

  /** {@code publicUrl} is the node's own URL; its origin is always allowed (may be empty). */
  public Origins(List<String> allowed, String publicUrl) {
    this.allowed = List.copyOf(allowed);
    this.any = allowed.contains("*");
    this.own = originOf(publicUrl);
  }

  /** {@code scheme://host[:port]} of a URL, lower-cased; empty when it has none. */
  static String originOf(String url) {
    try {
      URI u = URI.create(url);
      return u.getScheme() == null || u.getRawAuthority() == null ? ""
          : (u.getScheme() + "://" + u.getRawAuthority()).toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  /** True when every origin may connect (the development default). */
  public boolean open() {
    return any;
  }

  /** May a page of {@code origin} ({@code null} when the handshake had none) open a socket? */
  public boolean allows(String origin) {
    if (origin == null || any) {
      return true;
    }
    String o = origin.trim().toLowerCase(Locale.ROOT);
    if (!own.isEmpty() && o.equals(own)) {
      return true;
    }
    for (String a : allowed) {
      if (a.equals(o) || wildcard(a, o)) {
        return true;
      }
    }
    return false;
  }

  private static boolean wildcard(String pattern, String origin) {
    int star = pattern.indexOf("://*.");
    if (star < 0) {
      return false;
    }
    String scheme = pattern.substring(0, star);
    String suffix = pattern.substring(star + 4); // ".example.com[:port]"
    URI u;
    try {
      u = URI.create(origin);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (!scheme.equals(u.getScheme()) || u.getRawAuthority() == null) {
      return false;
    }
    String authority = u.getRawAuthority();
    return authority.endsWith(suffix) && authority.length() > suffix.length()
        && authority.substring(0, authority.length() - suffix.length()).matches("[a-z0-9\\-.]+");
  }
}
