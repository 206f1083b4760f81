import dev.flowapp.Context;
import dev.flowapp.FunctionError;
import dev.flowapp.Handler;
import java.util.Map;

/**
 * The `display` function, in Java: writes the message to the function's log and returns it.
 *
 * <p>context.logger() writes JSON lines carrying the execution id, so flowapp shows this
 * line among the logs of the execution that produced it. src/main/java/dev/flowapp is
 * flowapp's host.
 */
public class Display implements Handler {
    @Override
    public Object handle(Object data, Context context) throws FunctionError {
        Object message = data instanceof Map ? ((Map<?, ?>) data).get("message") : null;
        if (!(message instanceof String)) {
            throw new FunctionError(422, "Missing message", "the input has no 'message' string");
        }
        context.logger().info("display: %s", message);
        return Map.of("displayed", message);
    }
}
