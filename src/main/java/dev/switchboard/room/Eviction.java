package dev.switchboard.room;

import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An operator removes a peer from its room ({@code DELETE /v1/rooms/R/peers/P}): its client is
 * told ({@code error} {@code kicked}, close 4406: not to rejoin by itself), and it leaves the room
 * at once, joined or away alike, so the others see {@code peer-left} {@code kicked} and its media
 * and resume token go with it. Runs on the session's event loop.
 */
final class Eviction {

  private static final Logger log = LoggerFactory.getLogger(Eviction.class);

  private Eviction() {
  }

  /** Removes {@code session}'s peer, telling its client {@code frame} first. */
  static void kick(PeerSession session, String frame) {
    if (!session.holdsIdentity()) {
      return; // joining (its store step will find it gone soon after), leaving, or gone
    }
    log.atInfo().addKeyValue("room", session.room()).addKeyValue("peer", session.peer())
        .log("peer removed by an operator");
    session.parts().link().send(frame); // held, for an away peer: it never resumes to read it
    session.leave(LeaveReason.KICKED);
    session.closeSocket(CloseCode.KICKED, ErrorCode.KICKED.wire());
  }
}
