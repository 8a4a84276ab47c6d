/** The worker thread behind TokenCounter (bundled as dist/tokenCountWorker.js). */
import { parentPort } from 'node:worker_threads';
import { isCountRequest, type CountReply } from './tokenCounter';
import { countText } from './tokenCounts';

const port = parentPort;
if (!port) throw new Error('tokenCountWorker.js must run in a worker thread');

port.on('message', (msg: unknown) => {
  if (!isCountRequest(msg)) return;
  let reply: CountReply;
  try {
    reply = { type: 'counts', id: msg.id, counts: msg.texts.map(countText) };
  } catch (err) {
    reply = { type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
