package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.LeaveReason;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resume side of one session: the token its client must show, and, while the peer is away,
 * the timer that ends the wait (what reaches it meanwhile is its {@link PeerInbox}'s). Used on
 * the session's event loop only.
 */
final class Resumption {

  private static final Logger log = LoggerFactory.getLogger(Resumption.class);

  private final Vertx vertx;
  private final long windowMs;
  /** The session's socket: its counts say what the client missed, and whether it spoke. */
  private final SessionSocket link;
  private ResumeToken token;
  /** The token the last welcome replaced: still good until the client speaks after that welcome. */
  private ResumeToken previous;
  /** Of the last resume: the client's count it brought, and the count of the client's messages its welcome told. */
  private long lastReceived = -1;
  private long lastTold;
  private long deadlineNanos;
  private Runnable expired;
  private long timer = -1;
  private boolean resuming;

  Resumption(Vertx vertx, long windowMs, SessionSocket link) {
    this.vertx = vertx;
    this.windowMs = windowMs;
    this.link = link;
  }

  /** Whether resume is on: a window of 0 turns it off (a dropped socket ends its peer at once). */
  boolean enabled() {
    return windowMs > 0;
  }

  /** A new token for a welcome, replacing the last one (a token works once); null if resume is off. */
  String issue() {
    if (!enabled()) {
      return null;
    }
    ResumeToken.Issued issued = ResumeToken.issue();
    previous = token;
    token = issued.token();
    return issued.text();
  }

  /**
   * Takes {@code session} onto {@code socket} for a client that showed its token. A token that
   * is not the session's (wrong, used up, another peer's), or a second resume while one is under
   * way, is refused and changes nothing: the window runs on. The token the last welcome replaced
   * is still good while the client has said nothing since that welcome (its socket may have died
   * before the welcome, and the new token, reached it); once it has spoken, it had the new one.
   * A resume that fails because the store did not answer may be tried again. The new welcome
   * needs the room as the store has it now: the client's picture of it may be any age.
   */
  Future<PeerSessions.Resumed> resume(PeerSession session, ClientMessage.Join join, PeerSocket socket,
                                      Context socketLoop, Consumer<PeerSession> adopt) {
    Promise<PeerSessions.Resumed> done = Promise.promise();
    session.home().runOnContext(v -> {
      if (!session.holdsIdentity()) {
        done.complete(PeerSessions.Resumed.GONE);
        return;
      }
      boolean current = token != null && token.matches(join.resume());
      boolean replaced = !current && previous != null && link.heardCount() == 0 && previous.matches(join.resume());
      if (resuming || !current && !replaced) {
        done.complete(PeerSessions.Resumed.REFUSED);
        return;
      }
      session.takeFromSocket();
      // With the replaced token the client never saw the last welcome: its count is the one it
      // brought then, and it needs everything sent since that welcome.
      List<String> missed = !replaced ? link.since(join.received())
          : join.received() == lastReceived ? link.since(0) : null;
      long told = replaced ? lastTold + link.heardCount() : link.heardCount();
      if (missed == null) {
        // What the client missed is no longer all here: it cannot carry on as if nothing
        // happened. The session ends (the others see it leave) and the client joins afresh.
        log.atInfo().addKeyValue("room", session.room()).addKeyValue("peer", session.peer())
            .addKeyValue("received", join.received()).log("resume too late to send again what the client missed");
        session.leave(LeaveReason.DISCONNECTED).onComplete(ar -> done.complete(PeerSessions.Resumed.GONE));
        return;
      }
      resuming = true;
      end(); // the client came back in time: the window waits for the store's answer
      OnLoop.of(session.home(), session.member().snapshot()).onComplete(ar -> {
        resuming = false;
        if (!session.isAway()) {
          done.complete(PeerSessions.Resumed.GONE); // it left meanwhile (room closed, node stopping)
        } else if (ar.failed()) {
          log.atWarn().addKeyValue("room", session.room()).addKeyValue("peer", session.peer())
              .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("resume failed: store unavailable");
          arm((deadlineNanos - System.nanoTime()) / 1_000_000); // the rest of the window
          done.complete(PeerSessions.Resumed.UNAVAILABLE);
        } else {
          lastReceived = replaced ? lastReceived : join.received();
          lastTold = told;
          adopt.accept(session); // before the welcome: what the client sends after it must find the session
          session.welcomeBack(ar.result(), missed, socket, socketLoop, issue(), told);
          done.complete(PeerSessions.Resumed.RESUMED);
        }
      });
    });
    return done.future();
  }

  /** The peer is away from now on: {@code expired} runs if it is not back within the window. */
  void away(Runnable expired) {
    this.expired = expired;
    deadlineNanos = System.nanoTime() + windowMs * 1_000_000;
    arm(windowMs);
  }

  private void arm(long ms) {
    timer = vertx.setTimer(Math.max(1, ms), t -> {
      timer = -1;
      expired.run();
    });
  }

  /** No longer away (back, or gone for good): the timer stops. */
  void end() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }
}
