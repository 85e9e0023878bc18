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
import java.util.function.Predicate;
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

  /**
   * A new token for the next welcome, not yet the session's: its digest goes to the store with
   * the step the welcome waits for, and {@link #install} makes it the session's once that step
   * succeeded. Null if resume is off.
   */
  ResumeToken.Issued draw() {
    return enabled() ? ResumeToken.issue() : null;
  }

  /**
   * Makes {@code issued} ({@link #draw}) the session's token, replacing the last one (a token
   * works once); returns its text, for the welcome.
   */
  String install(ResumeToken.Issued issued) {
    if (issued == null) {
      return null;
    }
    previous = token;
    token = issued.token();
    return issued.text();
  }

  /** The digest of the session's token, as the store keeps it; null if it has none. */
  String digest() {
    return token == null ? null : token.digestText();
  }

  /**
   * What a client's claim on this session comes to: the frames to send it again (null when they
   * are no longer all kept: too late to carry on) and the count of its messages to tell it.
   */
  record Takeover(List<String> missed, long told, boolean replaced, long received) {
  }

  /**
   * Checks a client's claim on this session: {@code presented} says whether a token is the one
   * it showed, and {@code received} is the count of frames it brought. Null, and nothing
   * changed (the window runs on), when the token is not the session's (wrong, used up, another
   * peer's) or another resume is under way. The token the last welcome replaced is still good
   * while the client has said nothing since that welcome (its socket may have died before the
   * welcome, and the new token, reached it); once it has spoken, it had the new one.
   */
  Takeover check(Predicate<ResumeToken> presented, long received) {
    boolean current = token != null && presented.test(token);
    boolean replaced = !current && previous != null && link.heardCount() == 0 && presented.test(previous);
    if (resuming || !current && !replaced) {
      return null;
    }
    // With the replaced token the client never saw the last welcome: its count is the one it
    // brought then, and it needs everything sent since that welcome.
    List<String> missed = !replaced ? link.since(received) : received == lastReceived ? link.since(0) : null;
    long told = replaced ? lastTold + link.heardCount() : link.heardCount();
    return new Takeover(missed, told, replaced, replaced ? lastReceived : received);
  }

  /**
   * Takes {@code session} onto {@code socket} for a client that showed its token on this node
   * ({@link #check} says when that is refused). A resume that fails because the store did not
   * answer may be tried again. The new welcome needs the room as the store has it now: the
   * client's picture of it may be any age.
   */
  Future<PeerSessions.Resumed> resume(PeerSession session, ClientMessage.Join join, PeerSocket socket,
                                      Context socketLoop, Consumer<PeerSession> adopt) {
    Promise<PeerSessions.Resumed> done = Promise.promise();
    session.home().runOnContext(v -> {
      if (!session.holdsIdentity()) {
        done.complete(PeerSessions.Resumed.GONE);
        return;
      }
      Takeover takeover = check(t -> t.matches(join.resume()), join.received());
      if (takeover == null) {
        done.complete(PeerSessions.Resumed.REFUSED);
        return;
      }
      session.takeFromSocket();
      if (takeover.missed() == null) {
        tooLate(session, join.received());
        session.leave(LeaveReason.DISCONNECTED).onComplete(ar -> done.complete(PeerSessions.Resumed.GONE));
        return;
      }
      resuming = true;
      end(); // the client came back in time: the window waits for the store's answer
      ResumeToken.Issued next = draw();
      OnLoop.of(session.home(), session.member().rekey(next)).onComplete(ar -> {
        resuming = false;
        if (!session.isAway()) {
          done.complete(PeerSessions.Resumed.GONE); // it left meanwhile (room closed, node stopping)
        } else if (ar.failed()) {
          log.atWarn().addKeyValue("room", session.room()).addKeyValue("peer", session.peer())
              .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("resume failed: store unavailable");
          arm((deadlineNanos - System.nanoTime()) / 1_000_000); // the rest of the window
          done.complete(PeerSessions.Resumed.UNAVAILABLE);
        } else {
          lastReceived = takeover.received();
          lastTold = takeover.told();
          adopt.accept(session); // before the welcome: what the client sends after it must find the session
          RoomListing listing = session.member().seen(ar.result().seq(), ar.result().members());
          session.welcomeBack(socket, socketLoop, listing, ar.result().seq(), install(next), takeover.told(),
              takeover.missed());
          done.complete(PeerSessions.Resumed.RESUMED);
        }
      });
    });
    return done.future();
  }

  /**
   * What the client missed is no longer all kept: it cannot carry on as if nothing happened.
   * The session ends (the others see it leave) and the client joins afresh.
   */
  static void tooLate(PeerSession session, long received) {
    log.atInfo().addKeyValue("room", session.room()).addKeyValue("peer", session.peer())
        .addKeyValue("received", received).log("resume too late to send again what the client missed");
  }

  /**
   * The session was handed over from another node ({@code Claim}): the token the client showed
   * there (its digest) is this session's replaced token, good until the client speaks after its
   * new welcome, with the count it brought and the count that welcome told.
   */
  void claimedWith(String presentedDigest, long received, long told) {
    previous = ResumeToken.ofDigest(presentedDigest);
    lastReceived = received;
    lastTold = told;
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
