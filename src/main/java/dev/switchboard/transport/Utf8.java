package dev.switchboard.transport;

/** UTF-8 arithmetic without encoding. */
final class Utf8 {

  private Utf8() {
  }

  /**
   * The number of bytes {@code s} takes in UTF-8, as Java's and Netty's encoders write it (an
   * unpaired surrogate becomes one {@code ?}).
   */
  static int length(String s) {
    int n = s.length();
    int bytes = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        if (c < 0x800) {
          bytes += 1;
        } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          bytes += 2; // 4 bytes for the pair's 2 chars
          i++;
        } else if (!Character.isSurrogate(c)) {
          bytes += 2;
        }
      }
    }
    return bytes;
  }
}
