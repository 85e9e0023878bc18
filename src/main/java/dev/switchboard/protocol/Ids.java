package dev.switchboard.protocol;

/** The identifier rules of the protocol: room and peer ids, and message ids. */
public final class Ids {
  /** Room and peer ids: {@code [A-Za-z0-9._-]{1,64}}. */
  public static final int MAX_ID_LENGTH = 64;
  /** A client's message {@code id}, when it is a string. */
  public static final int MAX_MESSAGE_ID_LENGTH = 64;

  private Ids() {
  }

  /** True if {@code s} is a valid room or peer id. Checked by hand: this runs for every relay. */
  public static boolean isValid(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
