package dev.switchboard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A WebSocket client on a plain TCP socket, for clients no WebSocket library would be: after the
 * handshake it answers nothing (no pong, no close) and reads only when told to, like a frozen
 * tab or a host that dropped off the network without a FIN.
 */
public final class RawSocketPeer implements AutoCloseable {

  private static final SecureRandom RANDOM = new SecureRandom();
  private final Socket socket;
  private final OutputStream out;

  private RawSocketPeer(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
  }

  /** Opens a socket to {@code /ws} on 127.0.0.1 and completes the upgrade. */
  public static RawSocketPeer connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(5000);
    byte[] nonce = new byte[16];
    RANDOM.nextBytes(nonce);
    String request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce)
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0 || head.length() > 8192) {
        throw new IOException("no upgrade response: " + head);
      }
      head.append((char) b);
    }
    if (!head.toString().startsWith("HTTP/1.1 101")) {
      s.close();
      throw new IOException("upgrade refused: " + head.toString().lines().findFirst().orElse(""));
    }
    return new RawSocketPeer(s);
  }

  /** Sends one masked text frame, as RFC 6455 requires of clients. */
  public void sendText(String text) throws IOException {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] mask = new byte[4];
    RANDOM.nextBytes(mask);
    int len = payload.length;
    int headerLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
    byte[] frame = new byte[headerLen + 4 + len];
    frame[0] = (byte) 0x81;
    if (len < 126) {
      frame[1] = (byte) (0x80 | len);
    } else if (len < 65536) {
      frame[1] = (byte) (0x80 | 126);
      frame[2] = (byte) (len >>> 8);
      frame[3] = (byte) len;
    } else {
      frame[1] = (byte) (0x80 | 127);
      for (int i = 0; i < 8; i++) {
        frame[2 + i] = (byte) ((long) len >>> (56 - 8 * i));
      }
    }
    System.arraycopy(mask, 0, frame, headerLen, 4);
    for (int i = 0; i < len; i++) {
      frame[headerLen + 4 + i] = (byte) (payload[i] ^ mask[i % 4]);
    }
    out.write(frame);
    out.flush();
  }

  /** A frame the server sent: its opcode (1 text, 8 close, 9 ping, 10 pong) and its payload. */
  public record Frame(int opcode, byte[] payload) {
    public static final int TEXT = 1;
    public static final int CLOSE = 8;
    public static final int PING = 9;

    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** A close frame's status code (RFC 6455 §5.5.1); -1 when it carries none. */
    public int closeCode() {
      return payload.length < 2 ? -1 : ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
    }
  }

  /**
   * Reads the next whole frame the server sends (a fragmented message as one frame), waiting at
   * most {@code timeoutMs} for each read. Pings are returned like any frame and never answered:
   * this client reads everything the server sends and still sends no pong. Fails with
   * {@link java.net.SocketTimeoutException} when nothing comes in time, and {@link java.io.EOFException}
   * when the server closed the connection.
   */
  public Frame readFrame(long timeoutMs) throws IOException {
    socket.setSoTimeout((int) timeoutMs);
    java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
    int opcode = -1;
    java.io.ByteArrayOutputStream payload = new java.io.ByteArrayOutputStream();
    boolean fin = false;
    while (!fin) {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      fin = (b0 & 0x80) != 0;
      if (opcode < 0) {
        opcode = b0 & 0x0f;
      }
      long len = b1 & 0x7f;
      if (len == 126) {
        len = in.readUnsignedShort();
      } else if (len == 127) {
        len = in.readLong();
      }
      if ((b1 & 0x80) != 0 || len > (1 << 20)) {
        throw new IOException("a server frame must not be masked, and these tests' frames are small: " + len);
      }
      byte[] data = new byte[(int) len];
      in.readFully(data);
      payload.write(data);
    }
    return new Frame(opcode, payload.toByteArray());
  }

  /** True once the server has closed the TCP connection (reads and discards what is pending). */
  public boolean serverClosed() {
    try {
      socket.setSoTimeout(50);
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[65536];
      while (true) {
        int n = in.read(buf);
        if (n < 0) {
          return true;
        }
      }
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
