package dev.flowapp;

import java.util.Map;

/** What a handler knows about its call, besides the data. */
public final class Context {
    private final Map<String, Object> attributes;
    private final Logger logger;

    Context(Map<String, Object> attributes, Logger logger) {
        this.attributes = Map.copyOf(attributes);
        this.logger = logger;
    }

    /** A context for unit tests: a call of execution {@code executionId}, task {@code /do/0/test}. */
    public static Context forTest(String executionId) {
        Map<String, Object> attributes = Map.of(
            "specversion", "1.0", "id", executionId + "/do/0/test/1", "source", "/flowapp/test/test",
            "type", "dev.flowapp.function.invoked", "flowappexecution", executionId,
            "flowapptask", "/do/0/test", "flowappattempt", "1");
        return new Context(attributes, new Logger(Map.of(
            "logger", "flowapp.function.test", "function", "test",
            "execution_id", executionId, "task_reference", "/do/0/test")));
    }

    /** All CloudEvent attributes of the call (read-only). */
    public Map<String, Object> attributes() {
        return attributes;
    }

    /** The execution id, or null when the caller is not a workflow. */
    public String executionId() {
        return text("flowappexecution");
    }

    /** The task reference, a JSON pointer such as {@code /do/0/display}. */
    public String taskReference() {
        return text("flowapptask");
    }

    /** 1 for the first delivery, then 2, 3 ... when the workflow retries. */
    public int attempt() {
        try {
            return Math.max(1, Integer.parseInt(String.valueOf(attributes.get("flowappattempt"))));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** The CloudEvent id: stable across redeliveries of one call; deduplicate side effects on it. */
    public String idempotencyKey() {
        return text("id");
    }

    /** Writes JSON lines tagged with the execution id and task reference. */
    public Logger logger() {
        return logger;
    }

    private String text(String name) {
        Object value = attributes.get(name);
        return value == null ? null : String.valueOf(value);
    }
}
