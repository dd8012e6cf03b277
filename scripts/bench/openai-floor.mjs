// The floor for bench:frontend: a minimal OpenAI-shaped HTTP server that answers at once.
// Reads and parses the JSON body (as any server must), then returns a fixed chat completion,
// or 16 SSE chunks and [DONE] when `stream: true`. Usage: node openai-floor.mjs PORT
import {createServer} from 'node:http';

const port = Number(process.argv[2]);
const chunk = (i) =>
  `data: ${JSON.stringify({id: 'chatcmpl-floor', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{index: 0, delta: {content: ` w${i}`}, finish_reason: i === 15 ? 'length' : null}]})}\n\n`;
const stream = `${Array.from({length: 16}, (_, i) => chunk(i)).join('')}data: [DONE]\n\n`;
const unary = JSON.stringify({
  id: 'chatcmpl-floor',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{index: 0, message: {role: 'assistant', content: Array.from({length: 16}, (_, i) => ` w${i}`).join('')}, finish_reason: 'length'}],
  usage: {prompt_tokens: 0, completion_tokens: 16, total_tokens: 16},
});
createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(parts).toString());
    if (body.stream) {
      res.writeHead(200, {'content-type': 'text/event-stream'});
      res.end(stream);
    } else {
      res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(unary)});
      res.end(unary);
    }
  });
}).listen(port, '127.0.0.1', () => console.log('ready'));
