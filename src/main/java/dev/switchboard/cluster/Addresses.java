package dev.switchboard.cluster;

/**
 * Event bus addresses: {@code sb.node.<node>}, the one clustered address of a node, is the only
 * one. Peers and rooms have no addresses of their own: within a node the router hands envelopes
 * straight to the sessions (docs/design.md says why).
 */
public final class Addresses {

  private Addresses() {
  }

  public static String node(String node) {
    return "sb.node." + node;
  }
}
