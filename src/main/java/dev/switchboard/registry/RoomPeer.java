package dev.switchboard.registry;

/**
 * A member as the node peer sets ({@code sb:node:<node>:peers}) and rosters name it:
 * {@code room/peer}. Neither id can contain {@code /}, so the pair is unambiguous.
 */
public record RoomPeer(String room, String peer) {

  public static RoomPeer parse(String pair) {
    int slash = pair.indexOf('/');
    return new RoomPeer(pair.substring(0, slash), pair.substring(slash + 1));
  }

  @Override
  public String toString() {
    return room + "/" + peer;
  }
}
