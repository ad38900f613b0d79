/**
 * A WebSocket as a `{ readable, writable }` Web Streams pair, so TLS can run
 * through it with `startTls` / `acceptTls` (binary messages carry the TLS
 * records).
 *
 * @module
 */
import type { StreamPair } from "./carriers.ts";

/** The part of a WebSocket (browser API, Deno, Bun, Node 22+) this uses. */
export interface WebSocketLike {
  /** `WebSocket.OPEN` (1) once open. */
  readonly readyState: number;
  /** Set to `"arraybuffer"` here. */
  binaryType: string;
  /** Sends a binary message. */
  send(data: Uint8Array): void;
  /** Closes the socket. */
  close(): void;
  /** Registers a listener for `open`, `message`, `close`, `error`. */
  addEventListener(type: string, listener: (event: Event) => void): void;
}

const OPEN = 1;

/**
 * Resolves once `socket` is open with a Web Streams pair over it: each
 * binary message received is one chunk; each chunk written is sent as one
 * binary message; closing the writable closes the socket.
 *
 * @example
 * ```ts
 * const conn = await startTls(await webSocketStreams(new WebSocket(url)), { serverName });
 * ```
 */
export function webSocketStreams(socket: WebSocketLike): Promise<StreamPair> {
  socket.binaryType = "arraybuffer";
  let done = false; // closed, errored or cancelled: the controller takes nothing more
  const readable = new ReadableStream<Uint8Array>({
    cancel(): void {
      done = true;
    },
    start(controller): void {
      socket.addEventListener("message", (event) => {
        if (done) return;
        const data = (event as MessageEvent).data;
        if (data instanceof ArrayBuffer) controller.enqueue(new Uint8Array(data));
        else if (ArrayBuffer.isView(data)) {
          controller.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        } else {
          done = true;
          controller.error(new TypeError("a text message arrived where TLS records were expected"));
        }
      });
      socket.addEventListener("close", () => {
        if (done) return;
        done = true;
        controller.close();
      });
      socket.addEventListener("error", () => {
        if (done) return;
        done = true;
        controller.error(new Error("the WebSocket failed"));
      });
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write(chunk): void {
      socket.send(chunk);
    },
    close(): void {
      socket.close();
    },
    abort(): void {
      socket.close();
    },
  });
  const pair = { readable, writable };
  if (socket.readyState === OPEN) return Promise.resolve(pair);
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => resolve(pair));
    socket.addEventListener("error", () => reject(new Error("the WebSocket did not open")));
  });
}
