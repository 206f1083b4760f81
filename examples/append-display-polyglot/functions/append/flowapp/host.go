// Package flowapp is the Go function host: it serves one Handle function as CloudEvents
// 1.0 over HTTP, with Go's standard library only (so `go build` needs no module proxy).
//
// A function's main.go defines
//
//	func Handle(ctx flowapp.Context, data any) (any, error)
//
// or a typed variant whose input is decoded from the JSON (a mismatch replies 400):
//
//	func Handle(ctx flowapp.Context, in Order) (Receipt, error)
//
// and serve.go starts the host with `func main() { flowapp.Serve(Handle) }`. Same
// contract as the Python, Node.js and Java hosts (docs/functions.md):
//
//   - GET /healthz: 200 once serving
//   - POST /: a binary (ce-* headers) or structured (application/cloudevents+json)
//     CloudEvent in, a reply CloudEvent out in the same mode
//   - a *FunctionError: its 4xx/5xx status with an RFC 7807 body; any other error or a
//     panic: 500 naming it; not a CloudEvent: 400; an output encoding/json cannot write: 500
//   - SIGTERM: stop accepting, finish in-flight calls (up to the grace period), exit 0;
//     SIGXCPU (the sandbox's CPU time limit): the same, exit 152
package flowapp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	problems   = "https://flowapp.dev/problems/"
	structured = "application/cloudevents+json"
)

var copied = []string{"flowappexecution", "flowapptask", "flowappattempt"}

// FunctionError is what a handler returns to reply a 4xx/5xx status with an RFC 7807
// problem: `return nil, flowapp.Error(422, "Missing name", "the input has no 'name'")`.
type FunctionError struct {
	Status int
	Title  string
	Detail string
	Type   string // "about:blank" when empty
}

func (e *FunctionError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%d %s", e.Status, e.Title)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail)
}

// Error is a *FunctionError with the given status, title and detail.
func Error(status int, title, detail string) *FunctionError {
	return &FunctionError{Status: status, Title: title, Detail: detail}
}

// Context is what a handler knows about its call, besides the data.
type Context struct {
	context.Context
	// Attributes are all CloudEvent attributes of the call.
	Attributes map[string]any
	// ExecutionID is the workflow execution's id ("" when the caller is not a workflow).
	ExecutionID string
	// TaskReference is the task's JSON pointer, such as /do/0/append.
	TaskReference string
	// Attempt is 1 for the first delivery, then 2, 3 ... when the workflow retries.
	Attempt int
	// IdempotencyKey is the CloudEvent id: stable across redeliveries of one call.
	IdempotencyKey string
	// Logger writes JSON lines tagged with the execution id and task reference.
	Logger *Logger
}

// TestContext is a Context for unit tests: a call of execution id, task /do/0/test.
func TestContext(executionID string) Context {
	attributes := map[string]any{
		"specversion": "1.0", "id": executionID + "/do/0/test/1", "source": "/flowapp/test/test",
		"type": "dev.flowapp.function.invoked", "flowappexecution": executionID,
		"flowapptask": "/do/0/test", "flowappattempt": "1",
	}
	return newContext(context.Background(), attributes, "test")
}

func newContext(parent context.Context, attributes map[string]any, function string) Context {
	text := func(name string) string {
		if value, ok := attributes[name]; ok && value != nil {
			return fmt.Sprint(value)
		}
		return ""
	}
	attempt, err := strconv.Atoi(text("flowappattempt"))
	if err != nil || attempt < 1 {
		attempt = 1
	}
	fields := map[string]string{"logger": "flowapp.function." + function, "function": function}
	if id := text("flowappexecution"); id != "" {
		fields["execution_id"] = id
	}
	if task := text("flowapptask"); task != "" {
		fields["task_reference"] = task
	}
	return Context{
		Context: parent, Attributes: attributes, ExecutionID: text("flowappexecution"),
		TaskReference: text("flowapptask"), Attempt: attempt, IdempotencyKey: text("id"),
		Logger: &Logger{fields: fields},
	}
}

// Logger writes one JSON line per record on stderr, fmt.Sprintf-style messages. A line
// with execution_id is filed under that execution by flowapp's log store.
type Logger struct {
	fields map[string]string
}

func (l *Logger) Debug(format string, args ...any) { l.log("DEBUG", format, args) }
func (l *Logger) Info(format string, args ...any)  { l.log("INFO", format, args) }
func (l *Logger) Warn(format string, args ...any)  { l.log("WARNING", format, args) }
func (l *Logger) Error(format string, args ...any) { l.log("ERROR", format, args) }

func (l *Logger) log(level, format string, args []any) {
	entry := map[string]any{
		"time":    time.Now().UTC().Format("2006-01-02T15:04:05.000-07:00"),
		"level":   level,
		"message": fmt.Sprintf(format, args...),
	}
	for key, value := range l.fields {
		entry[key] = value
	}
	line, _ := json.Marshal(entry)
	os.Stderr.Write(append(line, '\n'))
}

// Serve runs the host for handle until SIGTERM; it does not return.
func Serve[I any, O any](handle func(Context, I) (O, error)) {
	settings := readSettings(os.Args[1:])
	host := &host{settings: settings, invoke: invoker(handle)}
	host.log = &Logger{fields: map[string]string{"logger": "flowapp.host", "function": settings.function}}
	os.Exit(host.run())
}

type settings struct {
	host, port, function, app string
	grace                     time.Duration
}

func readSettings(args []string) settings {
	given := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		given[strings.TrimPrefix(args[i], "--")] = args[i+1]
	}
	pick := func(arg, env, fallback string) string {
		if value, ok := given[arg]; ok {
			return value
		}
		if value := os.Getenv(env); value != "" {
			return value
		}
		return fallback
	}
	folder, _ := filepath.Abs(pick("path", "FLOWAPP_FUNCTION_PATH", "."))
	grace, err := strconv.ParseFloat(pick("grace-period", "FLOWAPP_GRACE_PERIOD", "20"), 64)
	if err != nil {
		grace = 20
	}
	return settings{
		host: pick("host", "HOST", "127.0.0.1"), port: pick("port", "PORT", "8080"),
		function: pick("function", "FLOWAPP_FUNCTION", filepath.Base(folder)),
		app: pick("app", "FLOWAPP_APP", "default"), grace: time.Duration(grace * float64(time.Second)),
	}
}

type invokeFunc func(Context, any, json.RawMessage) (any, error)

// badInput: the data does not decode into the typed handler's input.
type badInput struct{ err error }

func (b badInput) Error() string { return b.err.Error() }

func invoker[I any, O any](handle func(Context, I) (O, error)) invokeFunc {
	var zero I
	plain := reflect.TypeOf(&zero).Elem().Kind() == reflect.Interface
	return func(ctx Context, data any, raw json.RawMessage) (any, error) {
		var input I
		if plain {
			if data != nil {
				input = data.(I)
			}
		} else if len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &input); err != nil {
				return nil, badInput{err}
			}
		}
		return handle(ctx, input)
	}
}

type host struct {
	settings settings
	invoke   invokeFunc
	log      *Logger
}

func (h *host) run() int {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("/", h.serveCall)
	// Idle connections kept longer than the caller's 15 s keep-alive, so a pooled
	// connection is never one this server is closing.
	server := &http.Server{Handler: mux, IdleTimeout: 65 * time.Second, ReadHeaderTimeout: 30 * time.Second}
	listener, err := net.Listen("tcp", net.JoinHostPort(h.settings.host, h.settings.port))
	if err != nil {
		h.log.Error("cannot listen: %v", err)
		return 1
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGXCPU)
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	h.log.Info("serving %s on http://%s", h.settings.function, listener.Addr())
	select {
	case err := <-served:
		h.log.Error("server stopped: %v", err)
		return 1
	case received := <-signals:
		status := 0
		if received == syscall.SIGXCPU {
			h.log.Warn("this instance used up its CPU time limit: it stops and is replaced")
			status = 152
		}
		h.log.Info("stopping: finishing in-flight calls (up to %s)", h.settings.grace)
		ctx, cancel := context.WithTimeout(context.Background(), h.settings.grace)
		defer cancel()
		server.Shutdown(ctx) // stops accepting, closes idle connections, waits for calls
		return status
	}
}

func (h *host) serveCall(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		sendProblem(w, problem(404, "Not Found", "no route "+r.URL.Path, "", ""))
		return
	}
	if r.Method != http.MethodPost {
		sendProblem(w, problem(405, "Method Not Allowed", "POST a CloudEvent to /", "", ""))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		sendProblem(w, problem(400, "Malformed request", "cannot read the body: "+err.Error(), problems+"malformed-request", ""))
		return
	}
	request, err := parseEvent(r.Header, body)
	if err != nil {
		sendProblem(w, problem(400, "Malformed request", err.Error(), problems+"malformed-request", ""))
		return
	}
	ctx := newContext(r.Context(), request.attributes, h.settings.function)
	output, failure := h.call(ctx, request)
	if failure != nil {
		sendProblem(w, failure)
		return
	}
	h.reply(w, ctx, request, output)
}

// call runs the handler; a panic becomes a 500 problem instead of a dead process.
func (h *host) call(ctx Context, request *event) (output any, failure map[string]any) {
	defer func() {
		if recovered := recover(); recovered != nil {
			ctx.Logger.Error("handle panicked: %v\n%s", recovered, debug.Stack())
			detail := fmt.Sprintf("panic: %v", recovered)
			failure = problem(500, "Unhandled exception in function", detail, problems+"unhandled-exception", ctx.TaskReference)
		}
	}()
	output, err := h.invoke(ctx, request.data, request.raw)
	if err == nil {
		return output, nil
	}
	var authored *FunctionError
	var bad badInput
	switch {
	case errors.As(err, &authored) && authored.Status >= 400 && authored.Status <= 599:
		return nil, problem(authored.Status, authored.Title, authored.Detail, authored.Type, ctx.TaskReference)
	case errors.As(err, &bad):
		return nil, problem(400, "Input does not match the handler's input type", bad.Error(), problems+"bad-input", ctx.TaskReference)
	default:
		ctx.Logger.Error("handle failed: %v", err)
		detail := fmt.Sprintf("%T: %v", err, err)
		return nil, problem(500, "Unhandled exception in function", detail, problems+"unhandled-exception", ctx.TaskReference)
	}
}

func (h *host) reply(w http.ResponseWriter, ctx Context, request *event, output any) {
	data, err := json.Marshal(output)
	if err != nil {
		detail := fmt.Sprintf("the output of type %T cannot be written as JSON: %v", output, err)
		ctx.Logger.Error("%s", detail)
		sendProblem(w, problem(500, "Output is not JSON", detail, problems+"output-not-json", ctx.TaskReference))
		return
	}
	attributes := map[string]any{
		"specversion": "1.0", "id": newID(), "type": "dev.flowapp.function.replied",
		"source": "/flowapp/" + h.settings.app + "/" + h.settings.function,
		"time":   time.Now().UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json",
	}
	for _, name := range copied {
		if value, ok := request.attributes[name]; ok {
			attributes[name] = value
		}
	}
	if request.structured {
		attributes["data"] = json.RawMessage(data)
		body, _ := json.Marshal(attributes)
		w.Header().Set("Content-Type", structured)
		w.Write(body)
		return
	}
	for name, value := range attributes {
		if name != "datacontenttype" {
			w.Header().Set("ce-"+name, encodeHeader(fmt.Sprint(value)))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

type event struct {
	attributes map[string]any
	data       any
	raw        json.RawMessage // the data as JSON, for a typed handler
	structured bool
}

var jsonMedia = regexp.MustCompile(`(?i)^\s*(application|text)/([a-z0-9.-]+\+)?json\s*(;.*)?$`)

func parseEvent(headers http.Header, body []byte) (*event, error) {
	contentType := headers.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(contentType), structured) {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
			return nil, fmt.Errorf("structured CloudEvent is not a JSON object")
		}
		out := &event{attributes: map[string]any{}, structured: true}
		for name, value := range fields {
			switch name {
			case "data":
				out.raw = value
				json.Unmarshal(value, &out.data)
			case "data_base64":
				var encoded string
				json.Unmarshal(value, &encoded)
				decoded, err := base64.StdEncoding.DecodeString(encoded)
				if err != nil {
					return nil, fmt.Errorf("data_base64 is not base64: %v", err)
				}
				out.data = string(decoded)
				out.raw, _ = json.Marshal(out.data)
			default:
				var attribute any
				json.Unmarshal(value, &attribute)
				out.attributes[name] = attribute
			}
		}
		return out, check(out.attributes)
	}
	if headers.Get("ce-specversion") == "" {
		got := contentType
		if got == "" {
			got = "none"
		}
		return nil, fmt.Errorf("not a CloudEvent: no ce-specversion header and the Content-Type is not %s (got '%s')", structured, got)
	}
	out := &event{attributes: map[string]any{}}
	for name, values := range headers {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "ce-") && len(values) > 0 {
			out.attributes[lower[3:]] = decodeHeader(values[0])
		}
	}
	if contentType != "" {
		out.attributes["datacontenttype"] = contentType
	}
	if err := check(out.attributes); err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return out, nil
	}
	if contentType == "" || jsonMedia.MatchString(contentType) {
		if err := json.Unmarshal(body, &out.data); err != nil {
			return nil, fmt.Errorf("data is not valid JSON: %v", err)
		}
		out.raw = body
	} else {
		out.data = string(body)
		out.raw, _ = json.Marshal(out.data)
	}
	return out, nil
}

func check(attributes map[string]any) error {
	if attributes["specversion"] != "1.0" {
		return fmt.Errorf("specversion must be 1.0, got %v", attributes["specversion"])
	}
	for _, name := range []string{"id", "source", "type"} {
		if text, ok := attributes[name].(string); !ok || text == "" {
			return fmt.Errorf("missing required attribute %s", name)
		}
	}
	return nil
}

// decodeHeader undoes the CloudEvents HTTP binding's percent-encoding; '+' stays '+'.
func decodeHeader(value string) string {
	if !strings.Contains(value, "%") {
		return value
	}
	var out []byte
	for i := 0; i < len(value); i++ {
		if value[i] == '%' && i+2 < len(value) {
			if b, err := strconv.ParseUint(value[i+1:i+3], 16, 8); err == nil {
				out = append(out, byte(b))
				i += 2
				continue
			}
		}
		out = append(out, value[i])
	}
	return string(out)
}

// encodeHeader percent-encodes space, '"', '%' and anything outside printable ASCII.
func encodeHeader(value string) string {
	var out strings.Builder
	for _, b := range []byte(value) {
		if b < 0x21 || b > 0x7e || b == '"' || b == '%' {
			fmt.Fprintf(&out, "%%%02X", b)
		} else {
			out.WriteByte(b)
		}
	}
	return out.String()
}

func problem(status int, title, detail, kind, instance string) map[string]any {
	if kind == "" {
		kind = "about:blank"
	}
	if title == "" {
		title = http.StatusText(status)
	}
	body := map[string]any{"type": kind, "title": title, "status": status}
	if detail != "" {
		body["detail"] = detail
	}
	if instance != "" {
		body["instance"] = instance
	}
	return body
}

func sendProblem(w http.ResponseWriter, body map[string]any) {
	encoded, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(body["status"].(int))
	w.Write(encoded)
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
