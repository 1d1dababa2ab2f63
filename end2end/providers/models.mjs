// A model server for the tests: an OpenAI-compatible chat completions API
// (/openai/v1/chat/completions) and Anthropic's Messages API
// (/anthropic/v1/messages), both streaming server-sent events with usage, as
// the real ones do. What it does next is queued by the test:
//
//   POST /control/next {mode, text?, status?, retry_after?, delay_ms?, key?}
//     (with `key`, for the next request made with that key only)
//     mode: "stream" (the default; `text` in small pieces, `delay_ms` apart),
//           "status" (answers `status` with an error, and Retry-After),
//           "drop" (streams a little, then closes the connection),
//           "hang" (sends the headers, then nothing)
//   GET /control/requests: every request received, with its key and body.
//
// A key starting with "sk-bad" is refused with 401 whatever is queued.
// Mounted under /models by mock.mjs; run alone: node models.mjs [--port N]
// prints {"port"} once it listens.
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const DEFAULT_TEXT =
  'Here is a version that greets:\n\n```python\nprint("hello from the assistant")\n```\n\nRun it with F5.';

const queue = [];
const requests = [];

export async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

export function send(res, status, value, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The text in pieces of a few characters, as tokens come.
function pieces(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 6) out.push(text.slice(i, i + 6));
  return out;
}

const openai = {
  start: () => [],
  piece: (t) => [{ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: t } }] }],
  end: (usage) => [
    { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    { id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out } },
    '[DONE]',
  ],
  error: (message) => ({ error: { message, type: 'invalid_request_error' } }),
};

const anthropic = {
  start: (usage) => [
    { type: 'message_start', message: { id: 'm1', role: 'assistant', usage: { input_tokens: usage.in, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  piece: (t) => [{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } }],
  end: (usage) => [
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: usage.out } },
    { type: 'message_stop' },
  ],
  error: (message) => ({ type: 'error', error: { type: 'authentication_error', message } }),
};

function write(res, api, event) {
  if (event === '[DONE]') return res.write('data: [DONE]\n\n');
  const name = api === anthropic ? `event: ${event.type}\n` : '';
  res.write(`${name}data: ${JSON.stringify(event)}\n\n`);
}

async function complete(req, res, api) {
  const raw = await body(req);
  const key = api === anthropic ? req.headers['x-api-key'] : (req.headers.authorization || '').replace(/^Bearer /, '');
  let parsed = null;
  try { parsed = JSON.parse(raw); } catch { /* recorded as sent */ }
  requests.push({ path: req.url, key, anthropic_version: req.headers['anthropic-version'] || null, body: parsed });
  if (!key || key.startsWith('sk-bad')) return send(res, 401, api.error('Incorrect API key provided'));
  const at = queue.findIndex((q) => !q.key || q.key === key);
  const next = at >= 0 ? queue.splice(at, 1)[0] : { mode: 'stream' };
  if (next.mode === 'status') {
    const headers = next.retry_after ? { 'retry-after': String(next.retry_after) } : {};
    return send(res, next.status || 500, api.error(next.message || 'the model is overloaded'), headers);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (next.mode === 'hang') return; // headers only: the client must give up by itself
  const text = next.text ?? DEFAULT_TEXT;
  const usage = { in: Math.ceil(raw.length / 4), out: Math.ceil(text.length / 4) };
  for (const e of api.start(usage)) write(res, api, e);
  const parts = pieces(text);
  for (const [i, p] of parts.entries()) {
    if (next.mode === 'drop' && i === Math.min(2, parts.length - 1)) return res.socket.destroy();
    for (const e of api.piece(p)) write(res, api, e);
    await sleep(next.delay_ms ?? 15);
  }
  for (const e of api.end(usage)) write(res, api, e);
  res.end();
}

// Answers what is under /models (mock.mjs) or at the root (alone); false when
// the path is not the model server's.
export async function models(req, res, path) {
  const api = { '/openai/v1/chat/completions': openai, '/anthropic/v1/messages': anthropic }[path];
  if (api && req.method === 'POST') {
    await complete(req, res, api);
  } else if (path === '/control/next' && req.method === 'POST') {
    queue.push(JSON.parse(await body(req)));
    send(res, 200, { queued: queue.length });
  } else if (path === '/control/requests') {
    send(res, 200, requests);
  } else {
    return false;
  }
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--port');
  const server = http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url, 'http://x').pathname;
      if (!(await models(req, res, path))) send(res, 404, { error: 'not found' });
    } catch (e) {
      console.error(e);
      if (!res.headersSent) send(res, 500, { error: String(e) });
    }
  });
  server.listen(i >= 0 ? Number(args[i + 1]) : 0, '127.0.0.1', () => {
    console.log(JSON.stringify({ port: server.address().port }));
  });
}
