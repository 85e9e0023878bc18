package dev.switchboard.transport;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Every HTTP answer of a node is JSON; errors are {@code {"error": code, "message": text}}. */
public final class HttpJson {

  private HttpJson() {
  }

  public static void send(RoutingContext ctx, int status, JsonObject body) {
    send(ctx.response(), status, body);
  }

  public static void send(HttpServerResponse response, int status, JsonObject body) {
    response.setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }

  public static void error(RoutingContext ctx, int status, String code, String message) {
    send(ctx, status, body(code, message));
  }

  public static JsonObject body(String code, String message) {
    return new JsonObject().put("error", code).put("message", message);
  }
}
