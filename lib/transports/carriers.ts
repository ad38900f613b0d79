/**
 * Byte channels: the few operations a {@link StreamTransport} needs from a
 * carrier that is not a socket of ours, and adapters for the carriers users
 * have: a `{ readable, writable }` Web Streams pair, a `Deno.Conn` (or
 * anything with its `read`/`write`/`closeWrite`/`close`, a `TlsConn`
 * included), and a `node:net` socket (Node's API, also Bun's and Deno's).
 *
 * @module
 */
import { TlsError } from "../core/errors.ts";
import type { Addr } from "../core/types.ts";

/** A duplex carrier of bytes. */
export interface ByteChannel {
  /** Local endpoint. */
  readonly localAddr: Addr;
  /** Remote endpoint. */
  readonly remoteAddr: Addr;
  /** The next chunk the peer sent, or `null` at end of stream. One call at a time. */
  read(): Promise<Uint8Array | null>;
  /** Sends all of `chunk` (which the channel may keep). One call at a time. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the sending direction once earlier writes are done. */
  closeWrite(): Promise<void>;
  /** Releases the carrier; idempotent. Pending reads end. */
  close(): void;
}

/** A `{ readable, writable }` pair of Web Streams of bytes. */
export interface StreamPair {
  /** Bytes from the peer. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  writable: WritableStream<Uint8Array>;
}

/** The part of `Deno.Conn` (and of `TlsConn`) a channel uses. */
export interface ConnLike {
  /** Reads into `buf`: the count, or `null` at end of stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes some of `data`: the count written. */
  write(data: Uint8Array): Promise<number>;
  /** Ends the sending direction. */
  closeWrite(): Promise<void> | void;
  /** Closes the connection. */
  close(): void;
  /** Local endpoint. */
  readonly localAddr: unknown;
  /** Remote endpoint. */
  readonly remoteAddr: unknown;
}

/** The part of a `node:net` `Socket` (Node, Bun, Deno) a channel uses. */
export interface NodeSocketLike {
  /** Registers an event listener. */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Removes an event listener. */
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Writes a chunk; `callback` runs once it was handed to the OS (or failed). */
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean;
  /** Ends the sending direction; `callback` runs once done. */
  end(callback?: () => void): unknown;
  /** Stops `data` events. */
  pause(): unknown;
  /** Resumes `data` events. */
  resume(): unknown;
  /** Closes the socket. */
  destroy(): unknown;
  /** Local IP. */
  readonly localAddress?: string;
  /** Local port. */
  readonly localPort?: number;
  /** Remote IP. */
  readonly remoteAddress?: string;
  /** Remote port. */
  readonly remotePort?: number;
}

/** The part of a Bun socket (`Bun.connect`, `Bun.listen`) a channel uses. */
export interface BunSocketLike {
  /** Replaces the socket's handlers. */
  reload(options: { socket: BunSocketHandlers }): void;
  /** Writes what the kernel takes now: the count (`-1` when closed). */
  write(data: Uint8Array): number;
  /** Half-closes the sending direction (`shutdown(true)` ends writes). */
  shutdown(halfClose?: boolean): void;
  /** Closes the socket. */
  end(): void;
  /** Closes the socket at once. */
  terminate(): void;
  /** Remote IP. */
  readonly remoteAddress?: string;
  /** Remote port. */
  readonly remotePort?: number;
  /** Local IP. */
  readonly localAddress?: string;
  /** Local port. */
  readonly localPort?: number;
}

/** Bun socket handlers (see Bun's `SocketHandler`). */
export interface BunSocketHandlers {
  /** Bytes arrived. */
  data(socket: unknown, data: Uint8Array): void;
  /** The kernel takes writes again. */
  drain(socket: unknown): void;
  /** The peer ended its sending direction. */
  end(socket: unknown): void;
  /** The socket closed. */
  close(socket: unknown, error?: Error): void;
  /** The socket failed. */
  error(socket: unknown, error: Error): void;
}

const STREAM: Addr = { transport: "stream" };

/**
 * Chunks pushed by event handlers, read one at a time: the shared part of
 * the `node:net` and Bun socket channels.
 */
class ChunkQueue {
  readonly #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #failure: Error | undefined;
  #wakers: (() => void)[] = [];

  /** Bytes waiting to be read. */
  get queued(): number {
    return this.#queued;
  }

  /** The error the carrier reported, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Whether the carrier ended (or failed). */
  get ended(): boolean {
    return this.#ended || this.#failure !== undefined;
  }

  /** Wakes every waiting reader and writer (they check again what they wait for). */
  notify(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }

  /** Resolves at the next `notify`. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.#wakers.push(resolve));
  }

  /** Queues a chunk the carrier delivered. */
  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.notify();
  }

  /** The carrier ended. */
  end(): void {
    this.#ended = true;
    this.notify();
  }

  /** The carrier failed. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.notify();
  }

  /** The next chunk, `null` at the end; `closed()` ends it early. */
  async read(closed: () => boolean): Promise<Uint8Array | null> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#queued -= chunk.length;
        return chunk;
      }
      if (this.#failure) throw this.#failure;
      if (this.#ended || closed()) return null;
      await this.wait();
    }
  }
}
const READ_CHUNK = 64 * 1024;

/** Whether `value` has the `read`/`write`/`closeWrite`/`close` shape of a `Deno.Conn`. */
export function isConnLike(value: unknown): value is ConnLike {
  const v = value as Partial<ConnLike> | null;
  return typeof v === "object" && v !== null && typeof v.read === "function" &&
    typeof v.write === "function" && typeof v.closeWrite === "function" &&
    typeof v.close === "function";
}

/** Whether `value` looks like a `node:net` socket. */
export function isNodeSocketLike(value: unknown): value is NodeSocketLike {
  const v = value as Partial<NodeSocketLike> | null;
  return typeof v === "object" && v !== null && typeof v.on === "function" &&
    typeof v.off === "function" && typeof v.pause === "function" &&
    typeof v.resume === "function" && typeof v.end === "function" &&
    typeof v.destroy === "function";
}

/** Whether `value` looks like a Bun socket. */
export function isBunSocketLike(value: unknown): value is BunSocketLike {
  const v = value as Partial<BunSocketLike> | null;
  return typeof v === "object" && v !== null && typeof v.reload === "function" &&
    typeof v.write === "function" && typeof v.terminate === "function" &&
    typeof v.shutdown === "function";
}

/** Whether `value` is a `{ readable, writable }` Web Streams pair. */
export function isStreamPair(value: unknown): value is StreamPair {
  const v = value as Partial<StreamPair> | null;
  return typeof v === "object" && v !== null && v.readable instanceof ReadableStream &&
    v.writable instanceof WritableStream;
}

/** A channel over a Web Streams pair; takes both streams' locks. */
export function streamPairChannel(pair: StreamPair): ByteChannel {
  if (pair.readable.locked || pair.writable.locked) {
    throw new TlsError(
      "INVALID_CONFIG",
      "the readable or writable stream is locked: release your reader/writer before the upgrade",
    );
  }
  const reader = pair.readable.getReader();
  const writer = pair.writable.getWriter();
  let closed = false;
  let writeClosed = false;
  return {
    localAddr: STREAM,
    remoteAddr: STREAM,
    async read(): Promise<Uint8Array | null> {
      const { value, done } = await reader.read();
      if (done) return null;
      if (value instanceof Uint8Array) return value;
      if (ArrayBuffer.isView(value)) {
        const view = value as ArrayBufferView;
        return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      }
      if ((value as unknown) instanceof ArrayBuffer) return new Uint8Array(value as ArrayBuffer);
      throw new TlsError("NETWORK_ERROR", "the readable stream yielded a chunk that is not bytes");
    },
    write(chunk: Uint8Array): Promise<void> {
      return writer.write(chunk);
    },
    async closeWrite(): Promise<void> {
      if (writeClosed) return;
      writeClosed = true;
      await writer.close();
    },
    close(): void {
      if (closed) return;
      closed = true;
      reader.cancel().catch(() => {});
      if (!writeClosed) {
        writeClosed = true;
        writer.close().catch(() => {});
      }
    },
  };
}

/** A channel over a `Deno.Conn`-like connection. */
export function connChannel(conn: ConnLike): ByteChannel {
  let closed = false;
  return {
    get localAddr(): Addr {
      return toAddr(conn.localAddr);
    },
    get remoteAddr(): Addr {
      return toAddr(conn.remoteAddr);
    },
    async read(): Promise<Uint8Array | null> {
      const buf = new Uint8Array(READ_CHUNK);
      const n = await conn.read(buf);
      return n === null ? null : buf.subarray(0, n);
    },
    async write(chunk: Uint8Array): Promise<void> {
      let sent = 0;
      while (sent < chunk.length) sent += await conn.write(chunk.subarray(sent));
    },
    async closeWrite(): Promise<void> {
      await conn.closeWrite();
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed by its owner
      }
    },
  };
}

/** A channel over a `node:net` socket; stops its `data` events while JS is behind. */
export function nodeSocketChannel(socket: NodeSocketLike): ByteChannel {
  const HIGH_WATER = 1 << 20;
  const queue = new ChunkQueue();
  let closed = false;
  const onData = (chunk: Uint8Array): void => {
    queue.push(chunk);
    if (queue.queued > HIGH_WATER) socket.pause();
  };
  const onEnd = (): void => queue.end();
  const onError = (error: Error): void => queue.fail(error);
  type Listener = (...args: unknown[]) => void;
  socket.on("data", onData as Listener);
  socket.on("end", onEnd);
  socket.on("error", onError as Listener);
  socket.on("close", onEnd);
  socket.resume();
  return {
    get localAddr(): Addr {
      return netAddr(socket.localAddress, socket.localPort);
    },
    get remoteAddr(): Addr {
      return netAddr(socket.remoteAddress, socket.remotePort);
    },
    async read(): Promise<Uint8Array | null> {
      const chunk = await queue.read(() => closed);
      if (queue.queued <= HIGH_WATER && !closed) socket.resume();
      return chunk;
    },
    write(chunk: Uint8Array): Promise<void> {
      if (queue.failure) return Promise.reject(queue.failure);
      return new Promise<void>((resolve, reject) => {
        socket.write(chunk, (error) => (error ? reject(error) : resolve()));
      });
    },
    closeWrite(): Promise<void> {
      return new Promise<void>((resolve) => socket.end(resolve));
    },
    close(): void {
      if (closed) return;
      closed = true;
      socket.off("data", onData as Listener);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      // keep an error listener: a late error must not become an uncaught exception
      socket.destroy();
      queue.notify();
    },
  };
}

/**
 * A channel over a Bun socket: its handlers are replaced (`reload`), so
 * every byte from now on goes to TLS.
 */
export function bunSocketChannel(socket: BunSocketLike): ByteChannel {
  const queue = new ChunkQueue();
  let closed = false;
  socket.reload({
    socket: {
      data: (_s, data) => queue.push(new Uint8Array(data)), // a copy: independent of Bun's buffer
      drain: () => queue.notify(),
      end: () => queue.end(),
      close: (_s, error) => (error ? queue.fail(error) : queue.end()),
      error: (_s, error) => queue.fail(error),
    },
  });
  return {
    get localAddr(): Addr {
      return netAddr(socket.localAddress, socket.localPort);
    },
    get remoteAddr(): Addr {
      return netAddr(socket.remoteAddress, socket.remotePort);
    },
    read(): Promise<Uint8Array | null> {
      return queue.read(() => closed);
    },
    async write(chunk: Uint8Array): Promise<void> {
      let at = 0;
      while (at < chunk.length) {
        if (queue.failure) throw queue.failure;
        if (closed || queue.ended) throw new Error("the socket is closed");
        const n = socket.write(chunk.subarray(at));
        if (n < 0) throw new Error("the socket is closed");
        at += n;
        if (at < chunk.length) await queue.wait(); // until drain
      }
    },
    closeWrite(): Promise<void> {
      socket.shutdown(true);
      return Promise.resolve();
    },
    close(): void {
      if (closed) return;
      closed = true;
      socket.end();
      queue.notify();
    },
  };
}

function netAddr(hostname: string | undefined, port: number | undefined): Addr {
  if (hostname === undefined || port === undefined) return STREAM;
  return { transport: "tcp", hostname: hostname.replace(/^::ffff:/, ""), port };
}

/** Our form of a runtime's address object. */
function toAddr(value: unknown): Addr {
  const v = value as { transport?: string; hostname?: string; port?: number; path?: string };
  if (v?.transport === "tcp" && typeof v.hostname === "string" && typeof v.port === "number") {
    return { transport: "tcp", hostname: v.hostname, port: v.port };
  }
  if (v?.transport === "unix" && typeof v.path === "string") {
    return { transport: "unix", path: v.path };
  }
  return STREAM;
}
