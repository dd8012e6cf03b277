/**
 * Frontend side of the request plane: one TCP connection per worker, many concurrent streams on
 * it. `call()` returns an async iterable of the worker's output; aborting its signal (a client
 * disconnect) sends a cancel frame. If the connection drops, every open stream fails with
 * `worker_gone`, which the frontend reports (and later migrates).
 */
import {type Socket, connect} from 'node:net';
import {FrameReader, INITIAL_CREDIT, type ServerFrame, encodeFrame} from './frames.js';

export class RequestPlaneError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

interface ClientStream {
  queue: unknown[];
  done: boolean;
  error?: RequestPlaneError;
  wake?: () => void;
  consumed: number;
}

export class WorkerConnection {
  private socket?: Socket;
  private connecting?: Promise<Socket>;
  private nextId = 1;
  private readonly streams = new Map<number, ClientStream>();
  private closedListeners: (() => void)[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly opts: {connectTimeoutMs?: number; token?: string} = {},
  ) {}

  get openStreams(): number {
    return this.streams.size;
  }

  onClose(fn: () => void): void {
    this.closedListeners.push(fn);
  }

  private ensure(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = connect({host: this.host, port: this.port});
      s.setNoDelay(true);
      const timeoutMs = this.opts.connectTimeoutMs ?? 3000;
      const timer = setTimeout(() => s.destroy(new Error(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
      const reader = new FrameReader();
      s.once('connect', () => {
        clearTimeout(timer);
        // The deployment's token first: a worker that has one refuses anything else.
        if (this.opts.token) s.write(encodeFrame({t: 'hello', token: this.opts.token}));
        this.socket = s;
        this.connecting = undefined;
        resolve(s);
      });
      s.on('data', (chunk) => {
        let frames: unknown[];
        try {
          frames = reader.push(chunk);
        } catch (e) {
          s.destroy(e as Error);
          return;
        }
        for (const f of frames) this.onFrame(f as ServerFrame);
      });
      s.on('error', (e) => {
        clearTimeout(timer);
        if (this.connecting) {
          this.connecting = undefined;
          reject(new RequestPlaneError('worker_unreachable', `cannot reach worker at ${this.host}:${this.port}: ${e.message}`));
        }
      });
      s.on('close', () => {
        this.socket = undefined;
        this.failAll(new RequestPlaneError('worker_gone', `worker at ${this.host}:${this.port} went away mid-request`));
        for (const fn of this.closedListeners) fn();
      });
    });
    return this.connecting;
  }

  private onFrame(f: ServerFrame): void {
    const s = this.streams.get(f.id);
    if (!s) return;
    if (f.t === 'data') s.queue.push(f.body);
    else if (f.t === 'end') s.done = true;
    else if (f.t === 'error') s.error = new RequestPlaneError(f.error.kind, f.error.message);
    if (f.t !== 'data') this.streams.delete(f.id);
    s.wake?.();
  }

  private failAll(e: RequestPlaneError): void {
    for (const s of this.streams.values()) {
      s.error ??= e;
      s.wake?.();
    }
    this.streams.clear();
  }

  /** Sends a request and streams the worker's output, item by item. */
  async *call(body: unknown, signal?: AbortSignal): AsyncGenerator<unknown> {
    for await (const batch of this.callBatches(body, signal)) yield* batch;
  }

  /**
   * Sends a request and streams the worker's output in batches: every item that arrived since the
   * consumer last asked, at once (a fast engine's tokens then cost the consumer one step, not one
   * per token).
   */
  async *callBatches(body: unknown, signal?: AbortSignal): AsyncGenerator<unknown[]> {
    const socket = await this.ensure();
    const id = this.nextId++;
    const s: ClientStream = {queue: [], done: false, consumed: 0};
    this.streams.set(id, s);
    const onAbort = () => {
      if (this.streams.delete(id)) socket.write(encodeFrame({t: 'cancel', id}));
      s.error ??= new RequestPlaneError('cancelled', 'request cancelled');
      s.wake?.();
    };
    signal?.addEventListener('abort', onAbort, {once: true});
    socket.write(encodeFrame({t: 'req', id, body}));
    try {
      for (;;) {
        if (s.queue.length) {
          const batch = s.queue;
          s.queue = [];
          s.consumed += batch.length;
          if (s.consumed >= INITIAL_CREDIT / 2) {
            if (this.streams.has(id)) socket.write(encodeFrame({t: 'credit', id, n: s.consumed}));
            s.consumed = 0;
          }
          yield batch;
          continue;
        }
        if (s.error) throw s.error;
        if (s.done) return;
        await new Promise<void>((r) => (s.wake = r));
        s.wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // The consumer stopped early (break/return): tell the worker.
      if (this.streams.delete(id) && !socket.destroyed) socket.write(encodeFrame({t: 'cancel', id}));
    }
  }

  close(): void {
    this.socket?.destroy();
  }
}
