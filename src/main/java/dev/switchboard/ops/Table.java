package dev.switchboard.ops;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with aligned columns, for terminals (the CLI and the bench command). */
public final class Table {

  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  public Table(String... headers) {
    columns = headers.length;
    rows.add(headers);
  }

  public Table row(Object... cells) {
    String[] r = new String[columns];
    for (int i = 0; i < columns; i++) {
      r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "-";
    }
    rows.add(r);
    return this;
  }

  public int size() {
    return rows.size() - 1;
  }

  public String render() {
    int[] width = new int[columns];
    for (String[] r : rows) {
      for (int i = 0; i < columns; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] r : rows) {
      for (int i = 0; i < columns; i++) {
        out.append(r[i]);
        if (i < columns - 1) {
          out.append(" ".repeat(width[i] - r[i].length() + 2));
        }
      }
      out.append('\n');
    }
    return out.toString();
  }
}
