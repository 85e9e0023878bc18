import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.ObjectName;

/**
 * How much heap one idle server-side WebSocket costs in plain Vert.x 5 (no application code),
 * and how much of it is Netty's MPSC queues. Run with Vert.x on the class path, for example:
 *
 * <pre>java -cp target/switchboard.jar docs/upstream/IdleWebSocketHeap.java 5000</pre>
 *
 * The server runs in this JVM; the clients run in a child JVM, so only the server side is
 * measured. Heap is read after a full GC, before and after the connections open.
 */
public class IdleWebSocketHeap {

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("clients")) {
      clients(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      return;
    }
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    Vertx vertx = Vertx.vertx();
    List<Object> held = new ArrayList<>();
    HttpServer server = vertx.createHttpServer()
        .webSocketHandler(ws -> {
          synchronized (held) {
            held.add(ws);
          }
        })
        .listen(0, "127.0.0.1").await();
    long before = heapAfterGc();
    List<String> queuesBefore = histogramLines("jctools");
    Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
        System.getProperty("java.class.path"), sourceFile(), "clients", Integer.toString(server.actualPort()),
        Integer.toString(n)).inheritIO().start();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      synchronized (held) {
        if (held.size() >= n) {
          break;
        }
      }
      Thread.sleep(100);
    }
    synchronized (held) {
      if (held.size() < n) {
        throw new IllegalStateException("only " + held.size() + " of " + n + " clients connected");
      }
    }
    Thread.sleep(1000);
    long after = heapAfterGc();
    System.out.printf("Vert.x %s, %d idle server-side WebSockets: %,d bytes of heap each%n", vertxVersion(), n,
        (after - before) / n);
    System.out.println("Netty's JCTools queues before (instances, bytes, class): " + queuesBefore);
    System.out.println("and with the sockets open: " + histogramLines("jctools"));
    System.out.println("object arrays (the queues' 1,024-slot chunks among them): " + histogramLines("[Ljava.lang.Object;"));
    child.destroy();
    System.exit(0);
  }

  /** The child: opens {@code n} WebSockets to the server and holds them. */
  private static void clients(int port, int n) throws Exception {
    Vertx vertx = Vertx.vertx();
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(n));
    List<WebSocket> open = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      open.add(client.connect(port, "127.0.0.1", "/").await());
    }
    Thread.sleep(Long.MAX_VALUE);
  }

  private static long heapAfterGc() throws Exception {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** The lines of the live class histogram that contain {@code name}, without their rank. */
  private static List<String> histogramLines(String name) throws Exception {
    String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
        new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
        new Object[] {new String[0]}, new String[] {String[].class.getName()});
    return histogram.lines().filter(l -> l.contains(name)).map(l -> l.replaceFirst("^\\s*\\d+:\\s+", "").trim())
        .toList();
  }

  private static String vertxVersion() throws Exception {
    try (var in = Vertx.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")) {
      return in == null ? "(unknown version)" : new String(in.readAllBytes()).trim();
    }
  }

  private static String sourceFile() {
    return System.getProperty("jdk.launcher.sourcefile", "docs/upstream/IdleWebSocketHeap.java");
  }
}
