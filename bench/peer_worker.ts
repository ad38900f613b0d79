/**
 * A Worker of `bench/peer.ts`: it loads the module (or uses the runtime's
 * own TLS) itself and serves handshakes on a port it shares with the other
 * Workers (`reusePort: true`).
 *
 * Messages in: `{ type: "start", implementation, cert, key, port }`, then
 * `{ type: "stop" }`. Out: `{ type: "listening", port }`, `{ type: "stopped", accepted }`,
 * or `{ type: "error", message }`.
 *
 * @module
 */
import { type Implementation, serve, type Serving } from "./peer_servers.ts";

/** The message that starts the listener. */
export interface StartMessage {
  type: "start";
  implementation: Implementation;
  cert: string;
  key: string;
  port: number;
}

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

let serving: Serving | undefined;

scope.onmessage = (event: MessageEvent): void => {
  const message = event.data as StartMessage | { type: "stop" };
  (async () => {
    if (message.type === "start") {
      serving = await serve(message.implementation, {
        mode: "handshake",
        cert: message.cert,
        key: message.key,
        port: message.port,
        reusePort: true,
      });
      scope.postMessage({ type: "listening", port: serving.port });
    } else {
      const accepted = serving?.accepted() ?? 0;
      await serving?.close();
      serving = undefined;
      scope.postMessage({ type: "stopped", accepted });
    }
  })().catch((error) => scope.postMessage({ type: "error", message: String(error) }));
};
