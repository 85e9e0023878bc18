package dev.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class OriginsTest {

  private final Origins origins = new Origins(List.of("https://app.example.com", "https://*.example.org",
      "http://localhost:3000"));

  @Test
  @DisplayName("listed origins match exactly (case-insensitively); others do not")
  void exact() {
    assertTrue(origins.allows("https://app.example.com", "sb.example.net"));
    assertTrue(origins.allows("HTTPS://APP.EXAMPLE.COM", "sb.example.net"));
    assertTrue(origins.allows("http://localhost:3000", "sb.example.net"));
    assertFalse(origins.allows("http://app.example.com", "sb.example.net"), "scheme matters");
    assertFalse(origins.allows("https://app.example.com:8443", "sb.example.net"), "port matters");
    assertFalse(origins.allows("https://app.example.com.evil.net", "sb.example.net"));
    assertFalse(origins.allows("https://evilapp.example.com", "sb.example.net"));
    assertFalse(origins.allows("null", "sb.example.net"));
    assertFalse(origins.allows("", "sb.example.net"));
  }

  @Test
  @DisplayName("*.example.org allows its subdomains at any depth, not the domain itself, nor look-alikes")
  void wildcard() {
    assertTrue(origins.allows("https://meet.example.org", "x"));
    assertTrue(origins.allows("https://a.b.example.org", "x"));
    assertFalse(origins.allows("https://example.org", "x"));
    assertFalse(origins.allows("https://evil-example.org", "x"));
    assertFalse(origins.allows("https://meet.example.org.evil.net", "x"));
    assertFalse(origins.allows("http://meet.example.org", "x"));
    assertFalse(origins.allows("https://meet.example.org:444", "x"));
    assertFalse(origins.allows("https://user@meet.example.org", "x"));
  }

  @Test
  @DisplayName("same-origin pages and clients without Origin are always allowed; * allows everyone")
  void sameOriginAndOpen() {
    assertTrue(origins.allows("http://sb.example.net:8080", "sb.example.net:8080"));
    assertTrue(origins.allows("https://sb.example.net", "SB.example.net"));
    assertFalse(origins.allows("https://sb.example.net", "sb.example.net:8080"));
    assertTrue(origins.allows(null, "sb.example.net"));
    Origins open = new Origins(List.of("*"));
    assertTrue(open.open());
    assertTrue(open.allows("https://anything.example", "x"));
    assertFalse(origins.open());
  }
}
