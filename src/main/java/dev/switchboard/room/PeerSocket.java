package dev.switchboard.room;

/** What the room logic needs of a peer's socket. Called on the socket's event loop only. */
public interface PeerSocket {

  /** Writes one text frame, already encoded; false if the socket is closed and it was dropped. */
  boolean send(String frame);

  /** Closes the socket with a WebSocket close code. */
  void close(short code, String reason);
}
