// startTls({ fd }): a connected socket inherited from another process is upgraded.
// Here a Python supervisor did the plaintext part and passes the socket on.
import assert from "node:assert/strict";
import { acceptTls, listen, type PlainConn } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { str, text } from "../helpers/io.ts";
import { runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";

const p = pki();

async function line(plain: PlainConn): Promise<string> {
  const buf = new Uint8Array(64);
  let got = "";
  while (!got.endsWith("\r\n")) {
    const n = await plain.read(buf.subarray(0, 1)); // one byte at a time: nothing of TLS is read
    if (n === null) throw new Error(`ended after ${JSON.stringify(got)}`);
    got += str(buf.subarray(0, n));
  }
  return got.slice(0, -2);
}

test("startTls({ fd }) upgrades a connected socket inherited from a supervisor", async () => {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const plain = await listener.accept();
    assert.equal(await line(plain), "STARTTLS");
    await plain.write(text("220 ready\r\n"));
    const conn = await acceptTls(plain, { cert: p.server.cert, key: p.server.key });
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    await conn.write(text(`echo:${str(buf.subarray(0, n ?? 0))}`));
    await conn.closeWrite();
    conn.close();
  })();
  const runtimeArgs = scriptArgs(fixture("adopted_client.ts"));
  const supervisor = `
import socket, subprocess, sys
port, ca, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"STARTTLS\\r\\n")
reply = b""
while not reply.endswith(b"\\r\\n"):
    reply += s.recv(1)
assert reply == b"220 ready\\r\\n", reply
fd = s.fileno()
s.set_inheritable(True)
sys.exit(subprocess.run([*cmd, str(fd), ca], pass_fds=[fd]).returncode)
`;
  try {
    const result = await runTool(
      "python3",
      [
        "-c",
        supervisor,
        String(listener.addr.port),
        p.ca.certPath,
        process.execPath,
        ...runtimeArgs,
      ],
      "",
      60_000,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ANSWER TLSv1\.3 echo:from an adopted fd/);
    await served;
  } finally {
    listener.close();
  }
}, 60_000);
