package dev.flowapp;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One JSON line per record on stderr, {@code String.format}-style messages. A line with
 * {@code execution_id} is filed under that execution by flowapp's log store.
 */
public final class Logger {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSxxx");
    private final Map<String, String> fields;

    Logger(Map<String, String> fields) {
        this.fields = Map.copyOf(fields);
    }

    public void debug(String format, Object... args) {
        log("DEBUG", format, args);
    }

    public void info(String format, Object... args) {
        log("INFO", format, args);
    }

    public void warn(String format, Object... args) {
        log("WARNING", format, args);
    }

    public void error(String format, Object... args) {
        log("ERROR", format, args);
    }

    void log(String level, String format, Object... args) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("time", OffsetDateTime.now(ZoneOffset.UTC).format(TIME));
        entry.put("level", level);
        entry.put("logger", fields.get("logger"));
        entry.put("message", args.length == 0 ? format : String.format(format, args));
        for (Map.Entry<String, String> field : fields.entrySet()) {
            if (!field.getKey().equals("logger")) {
                entry.put(field.getKey(), field.getValue());
            }
        }
        String line;
        try {
            line = JSON.writeValueAsString(entry);
        } catch (Exception e) {
            line = "{\"level\":\"ERROR\",\"message\":\"unloggable record\"}";
        }
        PrintStream err = System.err;
        synchronized (err) {
            err.println(line);
        }
    }
}
