package dev.flowapp;

/**
 * A handler whose input is decoded into {@code I} (a record or bean) with Jackson; a
 * mismatch (a missing field of a primitive type, a string where a number belongs) replies
 * 400 before {@code handle} runs. Implement either this or {@link Handler}.
 */
public interface TypedHandler<I> {
    Object handle(I input, Context context) throws Exception;
}
