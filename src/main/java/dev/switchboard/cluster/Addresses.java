package dev.switchboard.cluster;

/**
 * Event bus addresses. {@code sb.node.<node>} is the one clustered address of a node.
 * {@code sb.peer.<room>/<peer>} and {@code sb.room.<room>} are local to the node holding the
 * peer's socket. A peer id is unique within its room only, so a peer's address names the room
 * too; {@code /} cannot appear in ids, so the address is unambiguous.
 */
public final class Addresses {

  private Addresses() {
  }

  public static String node(String node) {
    return "sb.node." + node;
  }

  public static String peer(String room, String peer) {
    return "sb.peer." + room + "/" + peer;
  }

  public static String room(String room) {
    return "sb.room." + room;
  }
}
