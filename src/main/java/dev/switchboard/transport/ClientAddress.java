package dev.switchboard.transport;

import dev.switchboard.config.Cidr;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The address a connection is counted against for per-address limits. Without trusted proxies
 * it is the socket's peer. Behind trusted load balancers it is read from {@code X-Forwarded-For}
 * from the right: each trusted proxy appends the address it saw, so the first entry from the
 * right that is not a trusted proxy is the client; entries further left were written by the
 * client itself and are never believed.
 */
final class ClientAddress {

  /** {@code X-Forwarded-For} entries looked at, from the right: a longer header is a client's doing. */
  static final int MAX_HOPS = 16;

  private ClientAddress() {
  }

  static String of(HttpServerRequest request, List<Cidr> trusted) {
    SocketAddress remote = request.remoteAddress();
    String peer = remote == null ? "unknown" : remote.hostAddress();
    if (trusted.isEmpty() || !isTrusted(peer, trusted)) {
      return peer;
    }
    return resolve(peer, request.headers().getAll("X-Forwarded-For"), trusted);
  }

  /** The client behind {@code peer} (a trusted proxy), from the forwarded-for header values. */
  static String resolve(String peer, List<String> headerValues, List<Cidr> trusted) {
    List<String> hops = new ArrayList<>();
    for (String value : headerValues) {
      for (String part : value.split(",")) {
        if (!part.isBlank()) {
          hops.add(part.trim());
        }
      }
    }
    String client = peer;
    for (int i = hops.size() - 1, seen = 0; i >= 0 && seen < MAX_HOPS; i--, seen++) {
      String hop = strip(hops.get(i));
      if (!hop.matches("[0-9A-Fa-f:.]{2,45}")) {
        return client; // not an address: the last trusted hop is as far as we can see
      }
      client = hop;
      if (!isTrusted(hop, trusted)) {
        return hop;
      }
    }
    return client;
  }

  /** {@code [::1]:443} and {@code 1.2.3.4:5678} forms, as some proxies write them, to the bare address. */
  private static String strip(String hop) {
    if (hop.startsWith("[") && hop.indexOf(']') > 0) {
      return hop.substring(1, hop.indexOf(']'));
    }
    int colon = hop.indexOf(':');
    if (colon > 0 && colon == hop.lastIndexOf(':') && hop.indexOf('.') > 0) {
      return hop.substring(0, colon);
    }
    return hop;
  }

  private static boolean isTrusted(String address, List<Cidr> trusted) {
    for (Cidr c : trusted) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }
}
