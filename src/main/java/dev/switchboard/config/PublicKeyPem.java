package dev.switchboard.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * A public key that verifies room tokens, in PEM ({@code -----BEGIN PUBLIC KEY-----}), with the
 * JWT algorithm it implies: an RSA key verifies RS256, an EC P-256 key ES256. Deriving the
 * algorithm from the key means a token cannot pick a weaker one.
 */
public record PublicKeyPem(String pem, String algorithm) {

  public static final PublicKeyPem NONE = new PublicKeyPem("", "");

  private static final String BEGIN = "-----BEGIN PUBLIC KEY-----";
  private static final String END = "-----END PUBLIC KEY-----";

  public boolean isPresent() {
    return !pem.isEmpty();
  }

  /** Reads {@code value}: the PEM text itself, or the path of a file holding it (read once, at start). */
  static PublicKeyPem load(String value) {
    String pem = value;
    if (!value.contains(BEGIN)) {
      try {
        pem = Files.readString(Path.of(value));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("must be a PEM public key or the path of a readable PEM file");
      }
    }
    int b = pem.indexOf(BEGIN);
    int e = pem.indexOf(END);
    if (b < 0 || e < b) {
      throw new IllegalArgumentException("must hold one -----BEGIN PUBLIC KEY----- block");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(b + BEGIN.length(), e));
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException("the PEM block is not valid base64");
    }
    String text = pem.substring(b, e + END.length());
    try {
      KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
      return new PublicKeyPem(text, "RS256");
    } catch (Exception notRsa) {
      try {
        ECPublicKey k = (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
        if (k.getParams().getCurve().getField().getFieldSize() != 256) {
          throw new IllegalArgumentException("an EC key must be on P-256 (ES256)");
        }
        return new PublicKeyPem(text, "ES256");
      } catch (IllegalArgumentException ex) {
        throw ex;
      } catch (Exception notEc) {
        throw new IllegalArgumentException("must be an RSA or EC P-256 public key");
      }
    }
  }

  @Override
  public String toString() {
    return isPresent() ? algorithm + " public key" : "none";
  }
}
