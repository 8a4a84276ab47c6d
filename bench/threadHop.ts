/**
 * The floor under a request's two messages between the threads: a bare worker that, like the
 * engine's, wakes on a message, is busy for as long as a warm request, and replies. Each message is
 * timed from its postMessage to its receiver's handler on the process-wide clock, as the engine's
 * `message_in` and `reply` stages are. On these 2-core VMs a thread that has slept through a
 * request's ~10 ms takes about a quarter of a millisecond to wake, whatever it is sent; with no
 * busy spell the same messages took under 0.1 ms (AMD EPYC, 2026-12-02).
 */
import { Worker } from 'node:worker_threads';
import { epochNow } from '../src/engine/runtime/stageClock';
import { summarize, type Summary } from './stats';

export interface ThreadHopResult {
  /** host → worker, ms */
  in: Summary;
  /** worker → host, ms */
  out: Summary;
  /** Per round trip, in + out, ms. */
  roundTrip: Summary;
  busyMs: number;
}

// The worker's side, as source (the bench runs from out/, with no bundle of its own for this).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const now = () => performance.timeOrigin + performance.now();
parentPort.on('message', (m) => {
  const inMs = now() - m.sentAt;
  const t0 = performance.now();
  while (performance.now() - t0 < m.busyMs); // a request's work
  parentPort.postMessage({ inMs, sentAt: now() });
});
`;

interface Reply {
  inMs: number;
  sentAt: number;
}

export async function threadHop(busyMs: number, rounds: number): Promise<ThreadHopResult> {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  const ins: number[] = [];
  const outs: number[] = [];
  let settle: { resolve: (m: Reply) => void; reject: (e: Error) => void } | undefined;
  worker.on('message', (m: Reply) => settle?.resolve(m));
  worker.on('error', (e) => settle?.reject(e));
  try {
    for (let r = 0; r < rounds + 5; r++) {
      const reply = await new Promise<Reply>((resolve, reject) => {
        settle = { resolve, reject };
        worker.postMessage({ sentAt: epochNow(), busyMs });
      });
      const outMs = epochNow() - reply.sentAt;
      if (r < 5) continue; // the threads' first rounds
      ins.push(reply.inMs);
      outs.push(outMs);
    }
  } finally {
    await worker.terminate();
  }
  return {
    in: summarize(ins),
    out: summarize(outs),
    roundTrip: summarize(ins.map((x, i) => x + outs[i])),
    busyMs,
  };
}
