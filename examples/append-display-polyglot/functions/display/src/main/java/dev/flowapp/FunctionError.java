package dev.flowapp;

/**
 * Thrown by a handler to reply a 4xx/5xx status with an RFC 7807 problem:
 * {@code throw new FunctionError(422, "Missing name", "the input has no 'name'")}.
 * Use 4xx when retrying cannot help (bad input), 5xx when it may.
 */
public class FunctionError extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String title;
    private final String detail;
    private final String type;

    public FunctionError(int status, String title) {
        this(status, title, null, "about:blank");
    }

    public FunctionError(int status, String title, String detail) {
        this(status, title, detail, "about:blank");
    }

    public FunctionError(int status, String title, String detail, String type) {
        super(detail == null ? status + " " + title : status + " " + title + ": " + detail);
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("a FunctionError's status must be 400-599, got " + status);
        }
        this.status = status;
        this.title = title;
        this.detail = detail;
        this.type = type == null ? "about:blank" : type;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return detail;
    }

    public String type() {
        return type;
    }
}
