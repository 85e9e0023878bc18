package dev.switchboard.cluster;

/**
 * Event bus addresses. {@code sb.node.<node>} is the one clustered address of a node.
 * {@code sb.peer.<room>/<peer>#<session>} and {@code sb.room.<room>} are local to the node
 * holding the peer's socket. A peer id is unique within its room only, so a peer's address
 * names the room too; and a peer that leaves and joins again under the same id is a new
 * session with an address of its own, so the two never share a consumer ({@code /} and
 * {@code #} cannot appear in ids, so the address is unambiguous).
 */
public final class Addresses {

  private Addresses() {
  }

  public static String node(String node) {
    return "sb.node." + node;
  }

  public static String peer(String room, String peer, long session) {
    return "sb.peer." + room + "/" + peer + "#" + session;
  }

  public static String room(String room) {
    return "sb.room." + room;
  }
}
