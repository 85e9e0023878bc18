package dev.switchboard.transport;

import java.util.Locale;

/** Why a connection, a join or a message was refused, or a socket closed by the node. */
public enum Refusal {
  /** Upgrade from a page whose Origin is not allowed (HTTP 403). */
  ORIGIN,
  /** Upgrade over the client address's connect rate (HTTP 429). */
  IP_RATE,
  /** Upgrade over the client address's concurrent sockets (HTTP 429). */
  IP_CONNECTIONS,
  /** Upgrade while the per-address table is full (HTTP 503). */
  IP_TABLE_FULL,
  /** Upgrade at the node's hard capacity (HTTP 503). */
  NODE_FULL,
  /** Upgrade to a draining node (HTTP 503). */
  DRAINING,
  /** Join without a valid token (close 4401). */
  UNAUTHORIZED,
  /** Join whose token does not grant it (close 4403). */
  FORBIDDEN,
  /** A message over the connection's rate (error rate-limited). */
  RATE_LIMITED,
  /** A connection over its rate for too long (close 4429). */
  RATE_CLOSED,
  /** A message that did not parse or validate (error bad-request / unknown-type). */
  BAD_MESSAGE,
  /** A first message that was not a valid join (close 4400). */
  BAD_JOIN,
  /** No join within the join timeout (close 4408). */
  JOIN_TIMEOUT,
  /** A frame over the frame limit (close 1009) or otherwise invalid (1007, 1002). */
  BAD_FRAME,
  /** A socket that fell too far behind (close 1008). */
  SLOW_CONSUMER,
  /** A socket that stopped answering pings (close 4410). */
  PONG_TIMEOUT,
  /** A join whose resume token is not the held session's (close 4409). */
  RESUME_REFUSED,
  /** A socket whose token expired without a refresh (close 4401). */
  TOKEN_EXPIRED,
  /** A refresh whose token was refused (error; the socket stays until the old token expires). */
  REFRESH_REFUSED;

  /** The label value: {@code ip_rate} for {@code IP_RATE}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
