package dev.switchboard.auth;

import dev.switchboard.config.Config;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code iceServers} of a peer's {@code welcome}: the static entries as configured, plus
 * the TURN URIs with a credential of the TURN REST API (draft-uberti-behave-turn-rest-00), the
 * form coturn accepts with {@code use-auth-secret}: username {@code <expiry unix seconds>:<peer>},
 * credential {@code base64(HMAC-SHA1(secret, username))}. The TURN server needs only the shared
 * secret and its clock; a credential stops working at its expiry.
 */
public final class TurnCredentials {

  private final Config.Ice ice;
  private final SecretKeySpec key;

  public TurnCredentials(Config.Ice ice) {
    this.ice = ice;
    this.key = ice.turnSecret().isEmpty() ? null
        : new SecretKeySpec(ice.turnSecret().getBytes(StandardCharsets.UTF_8), "HmacSHA1");
  }

  /** The ICE servers for {@code peer}, with TURN credentials valid from {@code nowMillis} for the TTL. */
  public JsonArray iceServers(String peer, long nowMillis) {
    JsonArray out = ice.servers().copy();
    if (!ice.turnUrls().isEmpty() && key != null) {
      String username = (nowMillis / 1000 + ice.turnTtl().toSeconds()) + ":" + peer;
      out.add(new JsonObject()
          .put("urls", new JsonArray(new java.util.ArrayList<>(ice.turnUrls())))
          .put("username", username)
          .put("credential", credential(username)));
    }
    return out;
  }

  /** {@code base64(HMAC-SHA1(secret, username))}. */
  String credential(String username) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(key);
      return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA1 is part of every JRE", e);
    }
  }
}
