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
 * non-browser client could send any value anyway); a same-origin page (its origin's host and port
 * equal the {@code Host} header, so a node serving the demo page always accepts it); and any
 * origin on the list, where {@code *} allows every origin and {@code https://*.example.com}
 * allows the subdomains of {@code example.com} (not {@code example.com} itself).
 */
public final class Origins {

  private final List<String> allowed;
  private final boolean any;

  public Origins(List<String> allowed) {
    this.allowed = List.copyOf(allowed);
    this.any = allowed.contains("*");
  }

  /** True when every origin may connect (the development default). */
  public boolean open() {
    return any;
  }

  /** May a page of {@code origin} open a socket on a request whose {@code Host} header is {@code host}? */
  public boolean allows(String origin, String host) {
    if (origin == null || any) {
      return true;
    }
    String o = origin.trim().toLowerCase(Locale.ROOT);
    if (host != null && o.equals("http://" + host.toLowerCase(Locale.ROOT))
        || host != null && o.equals("https://" + host.toLowerCase(Locale.ROOT))) {
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
