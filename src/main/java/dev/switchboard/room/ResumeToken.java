package dev.switchboard.room;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The secret a client shows to take its session back after its socket dropped: 128 random bits,
 * issued in each {@code welcome} and replaced by every resume, so a token works once. The session
 * keeps only its SHA-256 digest, so the token never sits in memory longer than it takes to send
 * it, and a heap dump does not hand out sessions. Bound to one session of one peer in one room by
 * where the digest is kept: only that session's digest can match.
 */
final class ResumeToken {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

  private final byte[] digest;

  private ResumeToken(byte[] digest) {
    this.digest = digest;
  }

  /** A fresh token: its text for the client, and what the session keeps of it. */
  record Issued(String text, ResumeToken token) {
    /** The digest as text: what the store keeps, for a resume after this node's death. */
    String digest() {
      return token.digestText();
    }
  }

  static Issued issue() {
    byte[] secret = new byte[16];
    RANDOM.nextBytes(secret);
    String text = BASE64.encodeToString(secret);
    return new Issued(text, new ResumeToken(sha256(text)));
  }

  /** The digest as text, as {@link #digestOf} gives it. */
  String digestText() {
    return BASE64.encodeToString(digest);
  }

  /** Whether {@code presented} is this token, in time that does not depend on where they differ. */
  boolean matches(String presented) {
    return presented != null && MessageDigest.isEqual(digest, sha256(presented));
  }

  /**
   * The digest of a presented token, as text: what a node that does not hold the session sends
   * to the node that does (a {@code Claim}), so the token itself never crosses the cluster.
   */
  static String digestOf(String presented) {
    return BASE64.encodeToString(sha256(presented));
  }

  /** The token whose digest (from {@link #digestOf}) a claim brought; null if it is not one. */
  static ResumeToken ofDigest(String digestText) {
    try {
      byte[] d = Base64.getUrlDecoder().decode(digestText);
      return d.length == 32 ? new ResumeToken(d) : null;
    } catch (IllegalArgumentException | NullPointerException notADigest) {
      return null;
    }
  }

  /** Whether {@code presentedDigest} (from {@link #digestOf}) is this token's digest. */
  boolean matchesDigest(String presentedDigest) {
    if (presentedDigest == null) {
      return false;
    }
    try {
      return MessageDigest.isEqual(digest, Base64.getUrlDecoder().decode(presentedDigest));
    } catch (IllegalArgumentException notBase64) {
      return false;
    }
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
