package dev.switchboard.webhooks;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code Switchboard-Signature} header of a webhook: {@code t=<unix seconds>,v1=<hex>}, where
 * the hex is HMAC-SHA256 with {@code webhooks.secret} of {@code <t>.<body>}. The timestamp is
 * signed with the body so that a receiver can refuse old deliveries replayed (docs/operations.md
 * shows the check).
 */
public final class Signature {

  public static final String HEADER = "Switchboard-Signature";

  private Signature() {
  }

  /** The header value for {@code body} sent at {@code unixSeconds}. */
  public static String sign(String secret, long unixSeconds, String body) {
    return "t=" + unixSeconds + ",v1=" + HexFormat.of().formatHex(hmac(secret, unixSeconds + "." + body));
  }

  /**
   * Whether {@code header} signs {@code body} with {@code secret}, sent at most
   * {@code toleranceSeconds} from {@code nowSeconds}. A receiver's check, here for tests and as
   * the reference for the docs.
   */
  public static boolean verify(String secret, String header, String body, long nowSeconds, long toleranceSeconds) {
    if (header == null || !header.startsWith("t=") || !header.contains(",v1=")) {
      return false;
    }
    long t;
    try {
      t = Long.parseLong(header.substring(2, header.indexOf(',')));
    } catch (NumberFormatException e) {
      return false;
    }
    byte[] given;
    try {
      given = HexFormat.of().parseHex(header.substring(header.indexOf(",v1=") + 4));
    } catch (IllegalArgumentException e) {
      return false;
    }
    return Math.abs(nowSeconds - t) <= toleranceSeconds
        && MessageDigest.isEqual(given, hmac(secret, t + "." + body));
  }

  private static byte[] hmac(String secret, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
