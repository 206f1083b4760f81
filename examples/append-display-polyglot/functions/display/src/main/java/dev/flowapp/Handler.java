package dev.flowapp;

/**
 * A flowapp function in Java: the one class a function folder implements.
 *
 * <p>{@code data} is the task's input as Jackson reads plain JSON: a {@code Map<String,
 * Object>}, {@code List<Object>}, {@code String}, {@code Integer}/{@code Long}/{@code
 * BigInteger}, {@code Double}, {@code Boolean} or {@code null}. The return value is
 * written as JSON by Jackson (maps, lists, records, beans, {@code null}).
 *
 * <p>Throw {@link FunctionError} to reply a 4xx/5xx problem; any other exception replies
 * 500 with a problem naming it.
 */
public interface Handler {
    Object handle(Object data, Context context) throws Exception;
}
