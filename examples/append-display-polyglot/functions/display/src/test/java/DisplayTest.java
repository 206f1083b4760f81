import dev.flowapp.Context;
import dev.flowapp.FunctionError;
import java.util.Map;

/** Unit tests of `display`: a plain main (`sh .ci/test.sh`-style: javac, then java DisplayTest). */
public class DisplayTest {
    public static void main(String[] args) throws Exception {
        Object output = new Display().handle(Map.of("message", "hi!"), Context.forTest("e1"));
        check(Map.of("displayed", "hi!").equals(output), "expected the message back, got " + output);
        try {
            new Display().handle(Map.of(), Context.forTest("e1"));
            check(false, "a missing message must be refused");
        } catch (FunctionError refused) {
            check(refused.status() == 422, "expected 422, got " + refused.status());
        }
        System.out.println("DisplayTest: ok");
    }

    static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }
}
