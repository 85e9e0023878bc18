package dev.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class OriginsTest {

  private final Origins origins = new Origins(List.of("https://app.example.com", "https://*.example.org",
      "http://localhost:3000"), "https://SB.example.net:8443/");

  @Test
  @DisplayName("listed origins match exactly (case-insensitively); others do not")
  void exact() {
    assertTrue(origins.allows("https://app.example.com"));
    assertTrue(origins.allows("HTTPS://APP.EXAMPLE.COM"));
    assertTrue(origins.allows("http://localhost:3000"));
    assertFalse(origins.allows("http://app.example.com"), "scheme matters");
    assertFalse(origins.allows("https://app.example.com:8443"), "port matters");
    assertFalse(origins.allows("https://app.example.com.evil.net"));
    assertFalse(origins.allows("https://evilapp.example.com"));
    assertFalse(origins.allows("null"));
    assertFalse(origins.allows(""));
  }

  @Test
  @DisplayName("*.example.org allows its subdomains at any depth, not the domain itself, nor look-alikes")
  void wildcard() {
    assertTrue(origins.allows("https://meet.example.org"));
    assertTrue(origins.allows("https://a.b.example.org"));
    assertFalse(origins.allows("https://example.org"));
    assertFalse(origins.allows("https://evil-example.org"));
    assertFalse(origins.allows("https://meet.example.org.evil.net"));
    assertFalse(origins.allows("http://meet.example.org"));
    assertFalse(origins.allows("https://meet.example.org:444"));
    assertFalse(origins.allows("https://user@meet.example.org"));
  }

  @Test
  @DisplayName("the node's own public URL and clients without Origin are allowed; * allows everyone")
  void ownOriginAndOpen() {
    assertTrue(origins.allows("https://sb.example.net:8443"));
    assertFalse(origins.allows("https://sb.example.net"), "another port is another origin");
    assertFalse(origins.allows("http://sb.example.net:8443"), "another scheme is another origin");
    assertTrue(origins.allows(null));
    Origins open = new Origins(List.of("*"), "");
    assertTrue(open.open());
    assertTrue(open.allows("https://anything.example"));
    assertFalse(origins.open());
  }

  @Test
  @DisplayName("DNS rebinding: a page whose own host name now points at the node is not same-origin")
  void rebindingIsRefused() {
    // Its Origin and the Host header it sends agree (both attacker.example), which is why the
    // Host header is never taken as the node's own origin.
    assertFalse(new Origins(List.of("https://app.example.com"), "http://10.0.0.5:8080")
        .allows("http://attacker.example"));
  }
}
