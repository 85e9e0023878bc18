package dev.switchboard.config;

/** Invalid configuration: the message names the setting and where its value came from. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
