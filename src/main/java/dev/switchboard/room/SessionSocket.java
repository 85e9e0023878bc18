package dev.switchboard.room;

import io.vertx.core.Context;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The socket a session writes to, which changes when the peer resumes: the client's current
 * socket, or none while the peer is away (its frames are then held for the resume). A session
 * stays on the event loop it started on for its whole life; a socket served by another loop is
 * written to by a hop onto that loop, which keeps the frames in order (one thread hands them
 * over, and a loop's task queue is FIFO).
 *
 * <p>Every frame after a welcome is numbered, as the client counts what it receives (and every
 * message of the client is counted, as the client counts what it sends), and the
 * latest are kept (bounded like the hold): a socket that died took with it whatever it had not
 * yet delivered, and a client that resumes says how many it got, so those after are sent again
 * ({@link #since}). Membership frames are numbered but neither kept nor sent again: the
 * resume's welcome shows the room as it is then (and most of what an idle peer receives is
 * membership, so idle peers keep next to nothing). Used on the session's event loop only.
 */
final class SessionSocket implements PeerSocket {

  /** A frame sent since the last welcome that a resume would send again, and its number. */
  private record Sent(long number, String frame) {
  }

  private final Context home;
  private final Predicate<String> whileAway;
  private final int maxKept;
  private final long maxKeptChars;
  private PeerSocket socket;
  private Context socketLoop;
  /** Whether a welcome was sent: from then on frames are counted. */
  private boolean counting;
  /** The latest such frames since the last welcome (created with the first one: most peers are idle). */
  private ArrayDeque<Sent> kept;
  private long keptChars;
  /** The number of the last frame a resume would have sent again that no longer fits. */
  private long dropped;
  private long sent;
  /** The client's messages handled since the last welcome ({@code ping} aside): a resume's welcome says it. */
  private long heard;

  /**
   * {@code socket} runs on {@code socketLoop}; while there is none, frames go to
   * {@code whileAway}, which answers whether it could hold them. At most {@code maxKept} frames
   * and {@code maxKeptChars} characters of them are kept for a resume.
   */
  SessionSocket(Context home, PeerSocket socket, Context socketLoop, Predicate<String> whileAway, int maxKept,
                long maxKeptChars) {
    this.home = home;
    this.whileAway = whileAway;
    this.maxKept = maxKept;
    this.maxKeptChars = maxKeptChars;
    attach(socket, socketLoop);
  }

  /** The client's socket now, or null while the peer is away. */
  PeerSocket current() {
    return socket;
  }

  void attach(PeerSocket socket, Context socketLoop) {
    this.socket = socket;
    this.socketLoop = socketLoop;
  }

  void detach() {
    socket = null;
    socketLoop = null;
  }

  /** Sends a welcome: the frames after it are counted from 1. */
  void welcome(String frame) {
    counting = true;
    kept = null;
    keptChars = 0;
    dropped = 0;
    sent = 0;
    heard = 0;
    write(frame);
  }

  /**
   * Writes {@code frame} to the current socket. On another loop the answer is whether the frame
   * was handed over, not whether the socket took it: one that closes meanwhile drops it, and a
   * resume sends it again.
   */
  @Override
  public boolean send(String frame) {
    return send(frame, true);
  }

  /** One more of the client's messages reached the session. */
  void heard() {
    heard++;
  }

  /** The client's messages handled since the last welcome. */
  long heardCount() {
    return heard;
  }

  /** Sends a {@code peer-joined}, {@code peer-left} or {@code peer-state}: a resume's welcome replaces it. */
  boolean sendMembership(String frame) {
    return send(frame, false);
  }

  private boolean send(String frame, boolean replayable) {
    if (socket == null) {
      return whileAway.test(frame);
    }
    if (counting) {
      keep(frame, replayable);
    }
    boolean written = write(frame);
    if (!written && counting) {
      unkeep(replayable); // its sender is told it was not delivered: a resume must not send it after all
    }
    return written;
  }

  private void unkeep(boolean replayable) {
    sent--;
    if (replayable && kept != null && !kept.isEmpty() && kept.peekLast().number() == sent + 1) {
      keptChars -= kept.pollLast().frame().length();
    }
  }

  private void keep(String frame, boolean replayable) {
    sent++;
    if (!replayable) {
      return;
    }
    if (kept == null) {
      kept = new ArrayDeque<>(4);
    }
    kept.add(new Sent(sent, frame));
    keptChars += frame.length();
    while (kept.size() > maxKept || keptChars > maxKeptChars) {
      Sent out = kept.poll();
      keptChars -= out.frame().length();
      dropped = out.number();
    }
  }

  private boolean write(String frame) {
    PeerSocket s = socket;
    if (socketLoop == home) {
      return s.send(frame);
    }
    socketLoop.runOnContext(v -> s.send(frame));
    return true;
  }

  /**
   * The frames to send again to a client that got {@code received} of those sent since the
   * last welcome: the replayable ones after it. Null when that cannot be told: the frames after
   * {@code received} are no longer all kept, or the client claims more than was sent. With
   * {@code received} -1 (the client did not count), nothing.
   */
  List<String> since(long received) {
    if (received < 0 || !counting) {
      return List.of();
    }
    if (received > sent || received < dropped) {
      return null;
    }
    List<String> again = new ArrayList<>();
    for (Sent s : kept == null ? List.<Sent>of() : kept) {
      if (s.number() > received) {
        again.add(s.frame());
      }
    }
    return again;
  }

  @Override
  public void close(short code, String reason) {
    PeerSocket s = socket;
    if (s == null) {
      return;
    }
    if (socketLoop == home) {
      s.close(code, reason);
    } else {
      socketLoop.runOnContext(v -> s.close(code, reason));
    }
  }
}
