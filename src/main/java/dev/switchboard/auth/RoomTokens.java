package dev.switchboard.auth;

import dev.switchboard.config.Config;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Duration;
import java.util.List;

/**
 * Decides whether a {@code join} may enter its room: verifies the join's JWT (vertx-auth-jwt)
 * and checks its claims against the join.
 *
 * <p>Verification failures (no token, bad signature, another algorithm than the configured
 * key's, expired, not yet valid, wrong {@code iss} or {@code aud}) are {@code unauthorized},
 * close 4401. A valid token that does not grant what the join asks (another {@code room}, another
 * {@code peer}, another {@code role}) is {@code forbidden}, close 4403.
 *
 * <p>Claims: {@code room} (a room id, or {@code *} for any); {@code peer} (optional: the only peer
 * id the token may join as, and the id used when the join names none); {@code role} (optional:
 * the only role the token may join as, and the role of a join that names none; without it the
 * token grants {@code peer} and {@code viewer}, never {@code presenter}); {@code exp}, {@code nbf}, {@code iat} with
 * {@code auth.clock-skew} of tolerance.
 */
public final class RoomTokens {

  /** The answer for one join: a grant, or a refusal with its error code, close code and reason. */
  public sealed interface Admission {
  }

  /**
   * The join may go ahead as {@code join} (its peer filled from the token when it had none), until
   * {@code expiresAtMs} (the token's {@code exp} plus the clock skew allowed, in ms since the
   * epoch; 0 for a token without {@code exp}).
   */
  public record Granted(ClientMessage.Join join, long expiresAtMs) implements Admission {
    public Granted(ClientMessage.Join join) {
      this(join, 0);
    }
  }

  /** The join is refused; {@code reason} is safe to show the client (it never repeats the token). */
  public record Refused(ErrorCode error, short close, String reason) implements Admission {
  }

  private final JWTAuth jwt;
  private final long leewayMs;

  private RoomTokens(JWTAuth jwt, long leewayMs) {
    this.jwt = jwt;
    this.leewayMs = leewayMs;
  }

  /** Tokens checked with the configured secret and/or public key, or {@code null} when auth is off. */
  public static RoomTokens create(Vertx vertx, Config.Auth auth) {
    if (!auth.enabled()) {
      return null;
    }
    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(jwtOptions(auth));
    if (!auth.secret().isEmpty()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(auth.secret()));
    }
    if (auth.publicKey().isPresent()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(auth.publicKey().algorithm())
          .setBuffer(auth.publicKey().pem()));
    }
    return new RoomTokens(JWTAuth.create(vertx, options), auth.clockSkew().toSeconds() * 1000);
  }

  private static JWTOptions jwtOptions(Config.Auth auth) {
    JWTOptions o = new JWTOptions().setLeeway((int) auth.clockSkew().toSeconds());
    if (!auth.issuer().isEmpty()) {
      o.setIssuer(auth.issuer());
    }
    if (!auth.audience().isEmpty()) {
      o.setAudience(List.of(auth.audience()));
    }
    return o;
  }

  /** Checks {@code join}'s token. The future never fails: every outcome is an {@link Admission}. */
  public Future<Admission> admit(ClientMessage.Join join) {
    if (join.token() == null || join.token().isEmpty()) {
      return Future.succeededFuture(unauthorized("this room needs a token: send join with token"));
    }
    Future<io.vertx.ext.auth.User> verified;
    try {
      verified = jwt.authenticate(new TokenCredentials(join.token()));
    } catch (RuntimeException e) {
      verified = Future.failedFuture(e);
    }
    return verified.transform(ar -> Future.succeededFuture(ar.succeeded()
        ? expiring(grant(join, ar.result().principal()), ar.result().attributes())
        : unauthorized("the token is invalid or expired")));
  }

  /**
   * A grant until the token's {@code exp} (with the skew the verifier allows too). The verified
   * user keeps {@code exp} among its attributes, not in its principal.
   */
  private Admission expiring(Admission a, JsonObject attributes) {
    return a instanceof Granted g && attributes.getValue("exp") instanceof Number exp
        ? new Granted(g.join(), exp.longValue() * 1000 + leewayMs) : a;
  }

  /** Checks a verified token's claims against the join. */
  static Admission grant(ClientMessage.Join join, JsonObject claims) {
    Object room = claims.getValue("room");
    if (!(room instanceof String r) || !(r.equals("*") || r.equals(join.room()))) {
      return forbidden("the token does not grant room " + join.room());
    }
    Object peerClaim = claims.getValue("peer");
    String peer = join.peer();
    if (peerClaim != null) {
      if (!(peerClaim instanceof String p) || (peer != null && !peer.equals(p))) {
        return forbidden("the token grants another peer id");
      }
      peer = p;
    }
    Object roleClaim = claims.getValue("role");
    ClientMessage.Role role = join.role();
    if (roleClaim != null) {
      ClientMessage.Role granted = roleClaim instanceof String g ? ClientMessage.Role.fromWire(g) : null;
      if (granted == null || (role != null && role != granted)) {
        return forbidden("the token grants role " + roleClaim + ", not " + (role == null ? "the room's default"
            : role.wire()));
      }
      role = granted; // a join that asked for no role takes the token's
    } else if (role == ClientMessage.Role.PRESENTER) {
      return forbidden("the token does not grant role presenter");
    }
    boolean same = (peer == null || peer.equals(join.peer())) && role == join.role();
    return new Granted(same ? join : new ClientMessage.Join(join.id(), join.room(), peer, join.token(), join.meta(),
        role, join.resume(), join.received()));
  }

  private static Refused unauthorized(String reason) {
    return new Refused(ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, reason);
  }

  private static Refused forbidden(String reason) {
    return new Refused(ErrorCode.FORBIDDEN, CloseCode.FORBIDDEN, reason);
  }

  /**
   * Mints an HS256 room token, for development and tests (production tokens come from the
   * application's backend, which holds the same secret or the private key).
   */
  public static String mint(Vertx vertx, String secret, String room, String peer, String role, Duration ttl,
                            String issuer, String audience) {
    JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    JsonObject claims = new JsonObject().put("room", room);
    if (peer != null) {
      claims.put("peer", peer);
    }
    if (role != null) {
      claims.put("role", role);
    }
    JWTOptions o = new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds((int) ttl.toSeconds());
    if (issuer != null && !issuer.isEmpty()) {
      o.setIssuer(issuer);
    }
    if (audience != null && !audience.isEmpty()) {
      o.setAudience(List.of(audience));
    }
    return auth.generateToken(claims, o);
  }
}
