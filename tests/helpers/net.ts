/** TCP helpers: a free port, and what the kernel says about a TCP socket. */
import { readFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import type { Addr } from "../../mod.ts";

/**
 * A port on 127.0.0.1 that was free a moment ago (bound, then released):
 * nothing listens on it, so a connection to it is refused, and a server
 * started next can usually take it.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP socket's state as Linux reports it in /proc/net/tcp. */
export interface TcpSocketState {
  /** The connection state, e.g. "ESTABLISHED", or "CLOSE_WAIT" once the peer's FIN arrived. */
  state: string;
  /** Bytes received and not yet read by the application. */
  receiveQueue: number;
  /** Bytes sent and not yet acknowledged by the peer. */
  sendQueue: number;
}

const STATES: Record<string, string> = {
  "01": "ESTABLISHED",
  "02": "SYN_SENT",
  "03": "SYN_RECV",
  "04": "FIN_WAIT1",
  "05": "FIN_WAIT2",
  "06": "TIME_WAIT",
  "07": "CLOSE",
  "08": "CLOSE_WAIT",
  "09": "LAST_ACK",
  "0A": "LISTEN",
  "0B": "CLOSING",
};

/**
 * The state of the IPv4 TCP socket on 127.0.0.1 whose local port is
 * `localPort` and remote port `remotePort` (Linux only: /proc/net/tcp);
 * `undefined` when there is none.
 */
export function tcpSocketState(localPort: number, remotePort: number): TcpSocketState | undefined {
  const hexPort = (port: number): string => port.toString(16).toUpperCase().padStart(4, "0");
  const local = `0100007F:${hexPort(localPort)}`;
  const remote = `0100007F:${hexPort(remotePort)}`;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== local || fields[2] !== remote) continue;
    const [send, receive] = fields[4].split(":").map((hex) => parseInt(hex, 16));
    return { state: STATES[fields[3]] ?? fields[3], receiveQueue: receive, sendQueue: send };
  }
  return undefined;
}

/** The port of a TCP address (a connection's `localAddr` or `remoteAddr`). */
export function tcpPort(addr: Addr): number {
  if (addr.transport !== "tcp") throw new Error(`not a TCP address: ${JSON.stringify(addr)}`);
  return addr.port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` within `timeoutMs`. */
export function accepts(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const finish = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}
