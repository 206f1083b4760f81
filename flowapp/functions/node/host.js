// The Node.js function host: serves one folder's `handle` as CloudEvents 1.0 over HTTP.
//
// Run as `node host.js --path functions/display` (or with PORT, HOST,
// FLOWAPP_FUNCTION_PATH ... in the environment). CommonJS and Node's `http` module only,
// so it runs on any Node >= 18 with nothing to install. The function is
// `<folder>/index.js` exporting `handle(data, context)` (or being that function); it may
// return a value or a Promise. Same contract as the Python host (docs/functions.md):
//
//   GET /healthz -> 200 once index.js is loaded
//   POST /       -> binary (ce-* headers) or structured (application/cloudevents+json)
//                   CloudEvent in; reply CloudEvent out in the same mode
//   throw an error with a numeric `status` (4xx/5xx) -> that status, RFC 7807 body;
//   any other throw -> 500 problem with its message; not a CloudEvent -> 400 problem
//   SIGTERM -> stop accepting, finish in-flight calls (up to the grace period), exit 0
//   SIGXCPU (the sandbox's CPU time limit) -> the same, exit 152
//
// Logs: context.logger.{debug,info,warn,error} write one JSON line per record on stderr
// with execution_id, task_reference and trace_id, which the supervisor uses to split logs.
//
// Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, each call is a span ("function <name>")
// under the calling task's span (the CloudEvent's `traceparent` extension), sent to
// <endpoint>/v1/traces as OTLP/HTTP JSON (no OpenTelemetry package needed); the author
// gets `context.traceparent` (the call's span) to pass on to what it calls.
'use strict';

const http = require('http');
const path = require('path');
const crypto = require('crypto');
const util = require('util');

const PROBLEMS = 'https://flowapp.dev/problems/';
const STRUCTURED = 'application/cloudevents+json';
const COPIED = ['flowappexecution', 'flowapptask', 'flowappattempt'];

class FunctionError extends Error {
  // What an author throws to reply non-2xx: `throw new context.FunctionError(404, 'Not Found')`.
  constructor(status, title, detail, type) {
    super(detail ? `${status} ${title}: ${detail}` : `${status} ${title}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type || 'about:blank';
  }
}

class MalformedEvent extends Error {}

function settings(argv, env) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  const folder = path.resolve(args.path || env.FLOWAPP_FUNCTION_PATH || '.');
  return {
    folder,
    host: args.host || env.HOST || '127.0.0.1',
    port: Number(args.port || env.PORT || 8080),
    fn: args.function || env.FLOWAPP_FUNCTION || path.basename(folder),
    app: args.app || env.FLOWAPP_APP || 'default',
    grace: Number(args['grace-period'] || env.FLOWAPP_GRACE_PERIOD || 20),
  };
}

// --- traces: OTLP/HTTP JSON, batched, bounded (spans that do not fit are dropped) ---
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_SPANS = 2048;

function parseTraceparent(value) {
  const match = TRACEPARENT.exec(String(value || '').trim());
  if (!match || match[1] === 'ff' || (match[1] === '00' && match[5])) return null;
  if (/^0+$/.test(match[2]) || /^0+$/.test(match[3])) return null;
  return { traceId: match[2], spanId: match[3], sampled: (parseInt(match[4], 16) & 1) === 1 };
}

function otlpValue(value) {
  if (typeof value === 'number' && Number.isInteger(value)) return { intValue: String(value) };
  if (typeof value === 'number') return { doubleValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return { stringValue: String(value) };
}

function otlpAttributes(attributes) {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: otlpValue(value) }));
}

function nowNanos() {
  const { timeOrigin, now } = { timeOrigin: performance.timeOrigin, now: performance.now() };
  return (BigInt(Math.round(timeOrigin * 1000)) * 1000n + BigInt(Math.round(now * 1e6))).toString();
}

class Tracer {
  constructor(endpoint, cfg, env) {
    const base = endpoint.replace(/\/+$/, '');
    this.url = new URL(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${base}/v1/traces`);
    this.resource = {
      attributes: otlpAttributes({
        'service.name': env.OTEL_SERVICE_NAME || `${cfg.app}.${cfg.fn}`,
        'faas.name': cfg.fn,
        'flowapp.app': cfg.app,
        'telemetry.sdk.language': 'nodejs',
      }),
    };
    // Seconds, as the Python exporter (and so the engine and the Python host) reads it.
    this.timeout = (Number(env.OTEL_EXPORTER_OTLP_TIMEOUT) || 10) * 1000;
    this.spans = [];
    this.dropped = 0;
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  start(name, traceparent, attributes) {
    const parent = parseTraceparent(traceparent);
    const span = {
      traceId: parent ? parent.traceId : crypto.randomBytes(16).toString('hex'),
      spanId: crypto.randomBytes(8).toString('hex'),
      name,
      kind: 2, // SERVER
      startTimeUnixNano: nowNanos(),
      attributes,
    };
    if (parent) span.parentSpanId = parent.spanId;
    span.traceparent = `00-${span.traceId}-${span.spanId}-01`;
    return span;
  }

  end(span, status, message) {
    const { traceparent, attributes, ...rest } = span;
    const done = { ...rest, endTimeUnixNano: nowNanos(), attributes: otlpAttributes(attributes) };
    done.status = status >= 400 ? { code: 2, message: message || `status ${status}` } : { code: 1 };
    if (this.spans.length >= MAX_SPANS) this.dropped += 1;
    else this.spans.push(done);
  }

  flush() {
    if (this.spans.length === 0) return Promise.resolve();
    const spans = this.spans.splice(0, this.spans.length);
    const body = JSON.stringify({
      resourceSpans: [{ resource: this.resource, scopeSpans: [{ scope: { name: 'flowapp.functions.node' }, spans }] }],
    });
    return new Promise((resolve) => {
      const request = http.request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: this.timeout,
      }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      // An unreachable collector loses these spans, never a call.
      request.on('timeout', () => request.destroy());
      request.on('error', () => { this.dropped += spans.length; resolve(); });
      request.end(body);
    });
  }
}

function log(level, fields, args) {
  const entry = { time: new Date().toISOString(), level, ...fields, message: util.format(...args) };
  process.stderr.write(JSON.stringify(entry) + '\n');
}

function makeLogger(base, attributes) {
  const fields = { ...base };
  if (attributes.flowappexecution) fields.execution_id = attributes.flowappexecution;
  if (attributes.flowapptask) fields.task_reference = attributes.flowapptask;
  const parent = parseTraceparent(attributes.traceparent);
  if (parent) fields.trace_id = parent.traceId;
  const logger = {};
  for (const [name, level] of [['debug', 'DEBUG'], ['info', 'INFO'], ['warn', 'WARNING'], ['error', 'ERROR']]) {
    logger[name] = (...args) => log(level, fields, args);
  }
  return logger;
}

function isJsonMedia(type) {
  return /^\s*(application|text)\/([a-z0-9.-]+\+)?json\s*(;.*)?$/i.test(type || '');
}

// Percent-encoding of header values per the CloudEvents HTTP binding: space, '"', '%' and
// anything outside printable ASCII.
function encodeHeader(value) {
  return String(value).replace(/[^\x21-\x7e]|["%]/gu, (c) => encodeURIComponent(c));
}

function decodeHeader(value) {
  try {
    return decodeURIComponent(value);
  } catch (_) {
    return value;
  }
}

function checkAttributes(attributes) {
  if (attributes.specversion !== '1.0') throw new MalformedEvent(`specversion must be 1.0, got ${attributes.specversion}`);
  for (const name of ['id', 'source', 'type']) {
    if (typeof attributes[name] !== 'string' || !attributes[name]) throw new MalformedEvent(`missing required attribute ${name}`);
  }
}

function parseData(body, contentType) {
  if (body.length === 0) return null;
  if (!contentType || isJsonMedia(contentType)) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new MalformedEvent(`data is not valid JSON: ${err.message}`);
    }
  }
  return body.toString('utf8');
}

function parseEvent(headers, body) {
  const contentType = headers['content-type'] || '';
  if (contentType.toLowerCase().startsWith(STRUCTURED)) {
    let event;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new MalformedEvent(`structured CloudEvent is not valid JSON: ${err.message}`);
    }
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw new MalformedEvent('structured CloudEvent is not a JSON object');
    const { data, data_base64: base64, ...attributes } = event;
    checkAttributes(attributes);
    const payload = base64 !== undefined ? Buffer.from(base64, 'base64').toString('utf8') : data;
    return { attributes, data: payload === undefined ? null : payload, structured: true };
  }
  if (!headers['ce-specversion']) {
    throw new MalformedEvent(`not a CloudEvent: no ce-specversion header and the Content-Type is not ${STRUCTURED} (got '${contentType || 'none'}')`);
  }
  const attributes = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-')) attributes[name.slice(3)] = decodeHeader(value);
  }
  if (contentType) attributes.datacontenttype = contentType;
  checkAttributes(attributes);
  return { attributes, data: parseData(body, contentType), structured: false };
}

function problem(status, title, detail, type, instance) {
  const body = { type: type || 'about:blank', title, status };
  if (detail) body.detail = detail;
  if (instance) body.instance = instance;
  return body;
}

function send(res, status, headers, body) {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendProblem(res, body) {
  send(res, body.status, { 'content-type': 'application/problem+json' }, JSON.stringify(body));
}

function reply(res, cfg, request, output) {
  const attributes = {
    specversion: '1.0',
    id: crypto.randomUUID(),
    source: `/flowapp/${cfg.app}/${cfg.fn}`,
    type: 'dev.flowapp.function.replied',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
  };
  for (const name of COPIED) if (request.attributes[name] !== undefined) attributes[name] = request.attributes[name];
  const data = JSON.stringify(output === undefined ? null : output);
  if (request.structured) {
    const event = { ...attributes, data: JSON.parse(data) };
    return send(res, 200, { 'content-type': STRUCTURED }, JSON.stringify(event));
  }
  const headers = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(attributes)) if (name !== 'datacontenttype') headers[`ce-${name}`] = encodeHeader(value);
  return send(res, 200, headers, data);
}

function failure(err, task) {
  const status = Number(err && err.status);
  if (Number.isInteger(status) && status >= 400 && status <= 599) {
    return problem(status, err.title || http.STATUS_CODES[status] || 'Error', err.detail || err.message, err.type, task);
  }
  const name = (err && err.name) || 'Error';
  const detail = err && err.message ? `${name}: ${err.message}` : String(err);
  return problem(500, 'Unhandled exception in function', detail, PROBLEMS + 'unhandled-exception', task);
}

async function call(handle, cfg, base, req, res, body, tracer) {
  let request;
  try {
    request = parseEvent(req.headers, body);
  } catch (err) {
    if (!(err instanceof MalformedEvent)) throw err;
    return sendProblem(res, problem(400, 'Malformed request', err.message, PROBLEMS + 'malformed-request'));
  }
  const a = request.attributes;
  const span = tracer && tracer.start(`function ${cfg.fn}`, a.traceparent, {
    'faas.name': cfg.fn,
    'faas.invocation_id': a.id,
    'flowapp.execution.id': a.flowappexecution || '',
    'flowapp.task.reference': a.flowapptask || '',
    'flowapp.task.attempt': a.flowappattempt || '1',
  });
  try {
    return await answer(handle, cfg, base, res, request, span);
  } finally {
    if (span) tracer.end(span, res.statusCode, res.statusMessage);
  }
}

async function answer(handle, cfg, base, res, request, span) {
  const a = request.attributes;
  const context = {
    attributes: Object.freeze({ ...a }),
    executionId: a.flowappexecution || null,
    taskReference: a.flowapptask || null,
    attempt: Math.max(1, parseInt(a.flowappattempt, 10) || 1),
    idempotencyKey: a.id,
    logger: makeLogger(base, a),
    traceparent: span ? span.traceparent : a.traceparent || null,
    FunctionError,
  };
  let output;
  try {
    output = await handle(request.data, Object.freeze(context));
  } catch (err) {
    if (!(Number(err && err.status) >= 400)) context.logger.error('handle failed: %s', (err && err.stack) || err);
    return sendProblem(res, failure(err, context.taskReference));
  }
  return reply(res, cfg, request, output);
}

function loadHandle(folder) {
  const exported = require(path.join(folder, 'index.js'));
  const handle = typeof exported === 'function' ? exported : exported && exported.handle;
  if (typeof handle !== 'function') throw new Error(`${path.join(folder, 'index.js')} exports no function handle(data, context)`);
  return handle;
}

function main() {
  const cfg = settings(process.argv.slice(2), process.env);
  const base = { logger: `flowapp.function.${cfg.fn}`, function: cfg.fn };
  const handle = loadHandle(cfg.folder); // throws (exit 1, stack on stderr) before listening
  const endpoint = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || '').trim();
  const tracer = endpoint ? new Tracer(endpoint, cfg, process.env) : null;
  let inFlight = 0;
  let stopping = false;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { 'content-type': 'application/json' }, '{"status":"ok"}');
    inFlight += 1;
    res.on('close', () => {
      inFlight -= 1;
      if (stopping && inFlight === 0) exit(0);
    });
    if (stopping) res.setHeader('connection', 'close');
    if (req.url !== '/') return sendProblem(res, problem(404, 'Not Found', `no route ${req.url}`));
    if (req.method !== 'POST') return sendProblem(res, problem(405, 'Method Not Allowed', 'POST a CloudEvent to /'));
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      call(handle, cfg, base, req, res, Buffer.concat(chunks), tracer).catch((err) => {
        sendProblem(res, problem(500, 'Host error', String((err && err.stack) || err)));
      });
    });
  });
  // Longer than the supervisor's 15 s client keep-alive: a pooled connection is never one
  // this server is about to close.
  server.keepAliveTimeout = 65000;
  server.headersTimeout = 66000;
  server.listen(cfg.port, cfg.host, () => log('INFO', { ...base, logger: 'flowapp.host' }, [`serving ${cfg.fn} on http://${cfg.host}:${cfg.port}`]));
  const exit = (code) => {
    // The spans of the last calls first, for at most a second.
    if (!tracer) process.exit(code);
    setTimeout(() => process.exit(code), 1000).unref();
    tracer.flush().then(() => process.exit(code));
  };
  const stop = (code = 0) => {
    if (stopping) return;
    stopping = true;
    log('INFO', { ...base, logger: 'flowapp.host' }, [`stopping: finishing in-flight calls (up to ${cfg.grace}s)`]);
    server.close(() => exit(code));
    server.closeIdleConnections();
    if (inFlight === 0) exit(code);
    setTimeout(() => exit(code), cfg.grace * 1000).unref();
  };
  process.on('SIGTERM', () => stop());
  process.on('SIGINT', () => stop());
  // The sandbox's CPU time limit: drain and stop like SIGTERM, with the status a process
  // killed by SIGXCPU has (128 + 24), so the supervisor names the limit.
  process.on('SIGXCPU', () => {
    log('WARN', { ...base, logger: 'flowapp.host' }, ['this instance used up its CPU time limit: it stops and is replaced']);
    stop(152);
  });
}

main();
