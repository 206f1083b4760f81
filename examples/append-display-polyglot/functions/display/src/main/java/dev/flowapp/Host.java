package dev.flowapp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The Java function host: serves the one {@link Handler} (or {@link TypedHandler}) of a
 * function folder as CloudEvents 1.0 over HTTP, with the JDK's HTTP server and Jackson.
 *
 * <p>Run as {@code java -cp <classes>:<jackson jars> dev.flowapp.Host --classes <classes>}
 * (or with PORT, HOST, FLOWAPP_* in the environment). Same contract as the Python and
 * Node.js hosts (docs/functions.md):
 *
 * <ul>
 *   <li>GET /healthz: 200 once the handler is loaded
 *   <li>POST /: a binary (ce-* headers) or structured (application/cloudevents+json)
 *       CloudEvent in, a reply CloudEvent out in the same mode
 *   <li>FunctionError: its 4xx/5xx status with an RFC 7807 body; any other exception: 500
 *       naming it; not a CloudEvent: 400; an output Jackson cannot write: 500
 *   <li>SIGTERM: stop accepting, finish in-flight calls (up to the grace period), exit 0
 * </ul>
 */
public final class Host {
    static final String PROBLEMS = "https://flowapp.dev/problems/";
    static final String STRUCTURED = "application/cloudevents+json";
    static final List<String> COPIED = List.of("flowappexecution", "flowapptask", "flowappattempt");
    static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, String> settings;
    private final Invoker invoker;
    private final Logger hostLog;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private HttpServer server;
    private ExecutorService threads;

    Host(Map<String, String> settings, Invoker invoker) {
        this.settings = settings;
        this.invoker = invoker;
        this.hostLog = new Logger(Map.of("logger", "flowapp.host", "function", settings.get("function")));
    }

    public static void main(String[] args) throws Exception {
        // The server writes a reply's headers and body separately: with Nagle's algorithm
        // the body waits for the caller's delayed ACK (~40 ms on every keep-alive call).
        // Read once when the server's configuration loads, so it is set before anything.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        Map<String, String> settings = settings(args);
        if (Arrays.asList(args).contains("--train")) {
            train(settings);
            return;
        }
        Invoker invoker;
        try {
            invoker = Invoker.load(settings.get("classes"), settings.get("handler"));
        } catch (IllegalStateException e) {
            System.err.println("flowapp: " + e.getMessage());
            System.exit(1);
            return;
        }
        new Host(settings, invoker).serve(true);
    }

    /**
     * A start-up rehearsal for the JVM's class data sharing archive, made at build time
     * ({@code -XX:ArchiveClassesAtExit}): the host's classes, Jackson's and the function's
     * (loaded, never initialised: no user code runs) are loaded, and one call in each mode
     * goes through the server to a stand-in handler; then the JVM exits and writes the
     * archive, which later starts load from.
     */
    static void train(Map<String, String> settings) throws Exception {
        try {
            Invoker.find(settings.get("classes"));
        } catch (IllegalStateException e) {
            // No single handler class: the real start reports it; the archive still helps.
        }
        settings.put("host", "127.0.0.1");
        settings.put("port", "0");
        Host host = new Host(settings, new Invoker((data, context) -> data, null, null));
        host.serve(false);
        int port = host.server.getAddress().getPort();
        String event = "{\"specversion\":\"1.0\",\"id\":\"t\",\"source\":\"/t\",\"type\":\"t\",\"data\":{\"a\":[1,2.5,\"x\",null,true]}}";
        rehearse(port, Map.of("ce-specversion", "1.0", "ce-id", "t", "ce-source", "/t", "ce-type", "t",
            "ce-flowappexecution", "e", "Content-Type", "application/json"), "{\"a\":[1,2.5,\"x\",null,true]}");
        rehearse(port, Map.of("Content-Type", STRUCTURED), event);
        rehearse(port, Map.of("Content-Type", "application/json"), "{}");  // a 400 problem
        System.exit(0);
    }

    private static void rehearse(int port, Map<String, String> headers, String body) throws IOException {
        var connection = (java.net.HttpURLConnection) new java.net.URL("http://127.0.0.1:" + port + "/").openConnection();
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        headers.forEach(connection::setRequestProperty);
        connection.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
        int status = connection.getResponseCode();
        (status < 400 ? connection.getInputStream() : connection.getErrorStream()).readAllBytes();
        connection.disconnect();
    }

    static Map<String, String> settings(String[] args) {
        Map<String, String> given = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            given.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Map<String, String> env = System.getenv();
        Map<String, String> out = new HashMap<>();
        String folder = given.getOrDefault("path", env.getOrDefault("FLOWAPP_FUNCTION_PATH", "."));
        out.put("classes", given.getOrDefault("classes", Paths.get(folder, "target", "flowapp", "classes").toString()));
        out.put("handler", given.getOrDefault("handler", env.getOrDefault("FLOWAPP_JAVA_HANDLER", "")));
        out.put("host", given.getOrDefault("host", env.getOrDefault("HOST", "127.0.0.1")));
        out.put("port", given.getOrDefault("port", env.getOrDefault("PORT", "8080")));
        String name = Paths.get(folder).toAbsolutePath().normalize().getFileName().toString();
        out.put("function", given.getOrDefault("function", env.getOrDefault("FLOWAPP_FUNCTION", name)));
        out.put("app", given.getOrDefault("app", env.getOrDefault("FLOWAPP_APP", "default")));
        out.put("grace", given.getOrDefault("grace-period", env.getOrDefault("FLOWAPP_GRACE_PERIOD", "20")));
        out.put("concurrency", env.getOrDefault("FLOWAPP_CONCURRENCY", "8"));
        return out;
    }

    void serve(boolean hooks) throws IOException {
        String host = settings.get("host");
        int port = Integer.parseInt(settings.get("port"));
        server = HttpServer.create(new InetSocketAddress(host, port), 128);
        int concurrency = Math.max(1, Integer.parseInt(settings.get("concurrency")));
        threads = Executors.newFixedThreadPool(concurrency, runnable -> {
            Thread thread = new Thread(runnable, "handle");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(threads);
        server.createContext("/", this::exchange);
        // SIGTERM and SIGINT run shutdown hooks; this one drains and then halts with 0
        // (a JVM ended by a signal would otherwise exit 143).
        if (hooks) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(0), "stop"));
        }
        server.start();
        hostLog.info("serving %s on http://%s:%d", settings.get("function"), host, port);
    }

    void stop(int status) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        double grace = Double.parseDouble(settings.get("grace"));
        hostLog.info("stopping: finishing in-flight calls (up to %ss)", settings.get("grace"));
        long deadline = System.nanoTime() + (long) (grace * 1e9);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                break;
            }
        }
        // In flight calls are answered (or the grace is over): stop(0) closes the idle
        // keep-alive connections now instead of waiting on them.
        server.stop(0);
        Runtime.getRuntime().halt(status);
    }

    private void exchange(HttpExchange exchange) throws IOException {
        inFlight.incrementAndGet();
        try {
            if (stopping.get()) {
                exchange.getResponseHeaders().set("Connection", "close");
            }
            route(exchange);
        } catch (Throwable t) {
            send(exchange, problemReply(problem(500, "Host error", t.toString(), null, null)));
        } finally {
            exchange.close();
            inFlight.decrementAndGet();
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        if ("/healthz".equals(path) && "GET".equals(method)) {
            send(exchange, new Reply(200, Map.of("Content-Type", "application/json"), "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8)));
            return;
        }
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (!"/".equals(path)) {
            send(exchange, problemReply(problem(404, "Not Found", "no route " + path, null, null)));
            return;
        }
        if (!"POST".equals(method)) {
            send(exchange, problemReply(problem(405, "Method Not Allowed", "POST a CloudEvent to /", null, null)));
            return;
        }
        send(exchange, call(exchange.getRequestHeaders(), body));
    }

    Reply call(Headers headers, byte[] body) {
        Event request;
        try {
            request = Event.parse(headers, body);
        } catch (MalformedEvent e) {
            return problemReply(problem(400, "Malformed request", e.getMessage(), PROBLEMS + "malformed-request", null));
        }
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("logger", "flowapp.function." + settings.get("function"));
        fields.put("function", settings.get("function"));
        Object execution = request.attributes.get("flowappexecution");
        Object task = request.attributes.get("flowapptask");
        if (execution != null) {
            fields.put("execution_id", String.valueOf(execution));
        }
        if (task != null) {
            fields.put("task_reference", String.valueOf(task));
        }
        Context context = new Context(request.attributes, new Logger(fields));
        Object output;
        try {
            output = invoker.invoke(request.data, context);
        } catch (FunctionError e) {
            return problemReply(problem(e.status(), e.title(), e.detail(), e.type(), context.taskReference()));
        } catch (BadInput e) {
            return problemReply(problem(400, "Input does not match " + invoker.inputName(), e.getMessage(), PROBLEMS + "bad-input", context.taskReference()));
        } catch (Throwable e) {
            context.logger().error("handle failed: %s", stackTrace(e));
            String detail = e.getMessage() == null ? e.getClass().getName() : e.getClass().getName() + ": " + e.getMessage();
            return problemReply(problem(500, "Unhandled exception in function", detail, PROBLEMS + "unhandled-exception", context.taskReference()));
        }
        try {
            return reply(request, output);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            // valueToTree reports a value it cannot write as IllegalArgumentException.
            String reason = e instanceof JsonProcessingException ? ((JsonProcessingException) e).getOriginalMessage() : e.getMessage();
            String detail = "the output of type " + output.getClass().getName() + " cannot be written as JSON: " + reason;
            context.logger().error("%s", detail);
            return problemReply(problem(500, "Output is not JSON", detail, PROBLEMS + "output-not-json", context.taskReference()));
        }
    }

    private Reply reply(Event request, Object output) throws JsonProcessingException {
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("specversion", "1.0");
        attributes.put("id", UUID.randomUUID().toString());
        attributes.put("source", "/flowapp/" + settings.get("app") + "/" + settings.get("function"));
        attributes.put("type", "dev.flowapp.function.replied");
        attributes.put("time", OffsetDateTime.now(ZoneOffset.UTC).toString());
        attributes.put("datacontenttype", "application/json");
        for (String name : COPIED) {
            if (request.attributes.containsKey(name)) {
                attributes.put(name, request.attributes.get(name));
            }
        }
        // Written first in every mode, so an output Jackson cannot write fails the same way.
        JsonNode data = JSON.valueToTree(output);
        if (request.structured) {
            ObjectNode event = JSON.valueToTree(attributes);
            event.set("data", data);
            return new Reply(200, Map.of("Content-Type", STRUCTURED), JSON.writeValueAsBytes(event));
        }
        Map<String, String> out = new LinkedHashMap<>();
        out.put("Content-Type", "application/json");
        for (Map.Entry<String, Object> attribute : attributes.entrySet()) {
            if (!attribute.getKey().equals("datacontenttype")) {
                out.put("ce-" + attribute.getKey(), Event.encodeHeader(String.valueOf(attribute.getValue())));
            }
        }
        return new Reply(200, out, JSON.writeValueAsBytes(data));
    }

    static Map<String, Object> problem(int status, String title, String detail, String type, String instance) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", type == null ? "about:blank" : type);
        body.put("title", title);
        body.put("status", status);
        if (detail != null && !detail.isEmpty()) {
            body.put("detail", detail);
        }
        if (instance != null) {
            body.put("instance", instance);
        }
        return body;
    }

    static Reply problemReply(Map<String, Object> problem) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(problem);
        } catch (JsonProcessingException e) {
            body = "{\"type\":\"about:blank\",\"title\":\"Host error\",\"status\":500}".getBytes(StandardCharsets.UTF_8);
        }
        return new Reply((Integer) problem.get("status"), Map.of("Content-Type", "application/problem+json"), body);
    }

    private static void send(HttpExchange exchange, Reply reply) throws IOException {
        Headers out = exchange.getResponseHeaders();
        reply.headers.forEach(out::set);
        exchange.sendResponseHeaders(reply.status, reply.body.length == 0 ? -1 : reply.body.length);
        if (reply.body.length > 0) {
            exchange.getResponseBody().write(reply.body);
        }
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter text = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(text));
        return text.toString();
    }

    record Reply(int status, Map<String, String> headers, byte[] body) {}

    static final class MalformedEvent extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedEvent(String message) {
            super(message);
        }
    }

    static final class BadInput extends Exception {
        private static final long serialVersionUID = 1L;

        BadInput(String message) {
            super(message);
        }
    }

    /** A call's CloudEvent: attributes and data, and whether it came in structured mode. */
    static final class Event {
        final Map<String, Object> attributes;
        final Object data;
        final boolean structured;

        Event(Map<String, Object> attributes, Object data, boolean structured) {
            this.attributes = attributes;
            this.data = data;
            this.structured = structured;
        }

        static Event parse(Headers headers, byte[] body) throws MalformedEvent {
            String contentType = headers.getFirst("Content-Type");
            if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith(STRUCTURED)) {
                JsonNode event;
                try {
                    event = JSON.readTree(body);
                } catch (IOException e) {
                    throw new MalformedEvent("structured CloudEvent is not valid JSON: " + e.getMessage());
                }
                if (event == null || !event.isObject()) {
                    throw new MalformedEvent("structured CloudEvent is not a JSON object");
                }
                Map<String, Object> attributes = new LinkedHashMap<>();
                Object data = null;
                for (var field : (Iterable<Map.Entry<String, JsonNode>>) event::fields) {
                    String name = field.getKey();
                    if (name.equals("data")) {
                        data = JSON.convertValue(field.getValue(), Object.class);
                    } else if (name.equals("data_base64")) {
                        data = new String(Base64.getDecoder().decode(field.getValue().asText()), StandardCharsets.UTF_8);
                    } else {
                        attributes.put(name, JSON.convertValue(field.getValue(), Object.class));
                    }
                }
                check(attributes);
                return new Event(attributes, data, true);
            }
            if (headers.getFirst("ce-specversion") == null) {
                throw new MalformedEvent("not a CloudEvent: no ce-specversion header and the Content-Type is not "
                    + STRUCTURED + " (got '" + (contentType == null ? "none" : contentType) + "')");
            }
            Map<String, Object> attributes = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> header : headers.entrySet()) {
                String name = header.getKey().toLowerCase(Locale.ROOT);
                if (name.startsWith("ce-") && !header.getValue().isEmpty()) {
                    attributes.put(name.substring(3), decodeHeader(header.getValue().get(0)));
                }
            }
            if (contentType != null) {
                attributes.put("datacontenttype", contentType);
            }
            check(attributes);
            return new Event(attributes, data(body, contentType), false);
        }

        private static Object data(byte[] body, String contentType) throws MalformedEvent {
            if (body.length == 0) {
                return null;
            }
            if (contentType == null || isJson(contentType)) {
                try {
                    return JSON.readValue(body, Object.class);
                } catch (IOException e) {
                    throw new MalformedEvent("data is not valid JSON: " + e.getMessage());
                }
            }
            return new String(body, StandardCharsets.UTF_8);
        }

        private static boolean isJson(String type) {
            return type.toLowerCase(Locale.ROOT).matches("^\\s*(application|text)/([a-z0-9.-]+\\+)?json\\s*(;.*)?$");
        }

        private static void check(Map<String, Object> attributes) throws MalformedEvent {
            if (!"1.0".equals(attributes.get("specversion"))) {
                throw new MalformedEvent("specversion must be 1.0, got " + attributes.get("specversion"));
            }
            for (String name : List.of("id", "source", "type")) {
                Object value = attributes.get(name);
                if (!(value instanceof String) || ((String) value).isEmpty()) {
                    throw new MalformedEvent("missing required attribute " + name);
                }
            }
        }

        /** Percent-decoding per the CloudEvents HTTP binding: a '+' stays a '+'. */
        static String decodeHeader(String value) {
            if (value.indexOf('%') < 0) {
                return value;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == '%' && i + 2 < bytes.length
                        && Character.digit(bytes[i + 1], 16) >= 0 && Character.digit(bytes[i + 2], 16) >= 0) {
                    out.write(Character.digit(bytes[i + 1], 16) * 16 + Character.digit(bytes[i + 2], 16));
                    i += 2;
                } else {
                    out.write(bytes[i]);
                }
            }
            return out.toString(StandardCharsets.UTF_8);
        }

        /** Space, '"', '%' and anything outside printable ASCII are percent-encoded. */
        static String encodeHeader(String value) {
            StringBuilder out = new StringBuilder();
            for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
                int c = b & 0xff;
                if (c < 0x21 || c > 0x7e || c == '"' || c == '%') {
                    out.append('%').append(String.format("%02X", c));
                } else {
                    out.append((char) c);
                }
            }
            return out.toString();
        }
    }

    /** Finds the function's handler class among the compiled classes and calls it. */
    static final class Invoker {
        private final Handler plain;
        private final TypedHandler<Object> typed;
        private final Type input;

        private Invoker(Handler plain, TypedHandler<Object> typed, Type input) {
            this.plain = plain;
            this.typed = typed;
            this.input = input;
        }

        String inputName() {
            return input == null ? "the input" : input.getTypeName();
        }

        Object invoke(Object data, Context context) throws Exception {
            if (plain != null) {
                return plain.handle(data, context);
            }
            Object decoded;
            try {
                decoded = JSON.convertValue(data, JSON.getTypeFactory().constructType(input));
            } catch (IllegalArgumentException e) {
                throw new BadInput(e.getMessage());
            }
            return typed.handle(decoded, context);
        }

        @SuppressWarnings("unchecked")
        static Invoker load(String classes, String named) {
            String name = named == null || named.isEmpty() ? find(classes) : named;
            Class<?> type;
            try {
                type = Class.forName(name);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("handler class " + name + " not found");
            }
            Object instance;
            try {
                instance = type.getDeclaredConstructor().newInstance();
            } catch (InvocationTargetException e) {
                throw new IllegalStateException("creating " + name + " failed: " + e.getCause(), e);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(name + " needs a public constructor without arguments");
            }
            if (instance instanceof Handler) {
                return new Invoker((Handler) instance, null, null);
            }
            if (instance instanceof TypedHandler) {
                return new Invoker(null, (TypedHandler<Object>) instance, inputType(type));
            }
            throw new IllegalStateException(name + " implements neither dev.flowapp.Handler nor dev.flowapp.TypedHandler");
        }

        private static Type inputType(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                for (Type implemented : c.getGenericInterfaces()) {
                    if (implemented instanceof ParameterizedType
                            && ((ParameterizedType) implemented).getRawType() == TypedHandler.class) {
                        return ((ParameterizedType) implemented).getActualTypeArguments()[0];
                    }
                }
            }
            return Object.class;
        }

        /** The one class under {@code classes} implementing a handler interface. */
        static String find(String classes) {
            Path root = Paths.get(classes);
            List<String> found = new ArrayList<>();
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String relative = root.relativize(file).toString();
                    if (!relative.endsWith(".class") || relative.startsWith("dev/flowapp/") || relative.contains("$")) {
                        continue;
                    }
                    String name = relative.substring(0, relative.length() - 6).replace('/', '.');
                    try {
                        Class<?> type = Class.forName(name, false, Host.class.getClassLoader());
                        boolean concrete = !type.isInterface() && !Modifier.isAbstract(type.getModifiers());
                        if (concrete && (Handler.class.isAssignableFrom(type) || TypedHandler.class.isAssignableFrom(type))) {
                            found.add(name);
                        }
                    } catch (ClassNotFoundException | LinkageError e) {
                        // A class that cannot load is not the handler; its own use reports it.
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the compiled classes in " + root + ": " + e.getMessage());
            }
            if (found.size() != 1) {
                String which = found.isEmpty() ? "none does" : String.join(", ", found) + " do";
                throw new IllegalStateException("a java function needs exactly one class implementing dev.flowapp.Handler "
                    + "or dev.flowapp.TypedHandler in src/main/java, " + which);
            }
            return found.get(0);
        }
    }
}
