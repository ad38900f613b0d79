/**
 * Checks that imports between the module's layers only point downward, and
 * that no module imports itself through others (no cycles). Run by `.ci/run`:
 * `deno run --allow-read scripts/check-layers.ts`.
 *
 * The layers, lowest first (`docs/architecture.md` describes each):
 *   ffi/            the symbol table, ABI constants, the two runtime loaders
 *   lib/core/       errors, public types, native-call helpers, abort, deadlines
 *   lib/runtime/    the readiness waiter and worker jobs, the fairness budget
 *   lib/config/     client and server configurations   } side by side: neither
 *   lib/sockets/    plain sockets, name resolution      } imports the other
 *   lib/tls/        the sans-IO session, certificates and pins
 *   lib/transports/ carriers of records: raw fd, streams, WebSocket
 *   lib/api/        TlsConn, connectTls, listenTls, startTls, acceptTls
 *   lib/node/       Node-shaped sockets, servers and fetch over lib/api
 * A file may import from its own folder or from a lower layer; the entry
 * files at the top level (mod.ts, client.ts, ...) and cli/ from any layer.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const root = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));

/** Each layer's rank: imports must go to a lower rank (or the same folder). */
const RANKS: Record<string, number> = {
  "ffi": 0,
  "lib/core": 1,
  "lib/runtime": 2,
  "lib/config": 3,
  "lib/sockets": 3,
  "lib/tls": 4,
  "lib/transports": 5,
  "lib/api": 6,
  "lib/node": 7,
};

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The relative `.ts` modules `file` imports or re-exports, as root-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s*"(\.[^"]+\.ts)"/gms)) {
    found.push(normalize(join(dirname(file), m[1])));
  }
  return found;
}

const problems: string[] = [];
const files = [...tsFiles("ffi"), ...tsFiles("lib")];
for (const folder of readdirSync(join(root, "lib"))) {
  if (RANKS[`lib/${folder}`] === undefined) problems.push(`lib/${folder}/ is not a known layer`);
}
for (const name of readdirSync(join(root, "lib"))) {
  if (name.endsWith(".ts")) problems.push(`lib/${name} sits outside every layer folder`);
}
const graph = new Map<string, string[]>();
for (const file of files) {
  const layer = dirname(file);
  const rank = RANKS[layer];
  const targets = importsOf(file);
  graph.set(file, targets);
  for (const target of targets) {
    const targetLayer = dirname(target);
    if (targetLayer === layer) continue;
    const targetRank = RANKS[targetLayer];
    if (targetRank === undefined) {
      problems.push(`${file} imports ${target}, outside the layers`);
    } else if (targetRank >= rank) {
      problems.push(`${file} (${layer}) imports ${target} (${targetLayer}): not a lower layer`);
    }
  }
}

// Cycles, by depth-first search over the import graph.
const state = new Map<string, "open" | "done">();
function visit(file: string, path: string[]): void {
  if (state.get(file) === "done") return;
  if (state.get(file) === "open") {
    problems.push(`import cycle: ${[...path.slice(path.indexOf(file)), file].join(" -> ")}`);
    return;
  }
  state.set(file, "open");
  for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
  state.set(file, "done");
}
for (const file of graph.keys()) visit(file, []);

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-layers: ${problem}`);
  console.error(`check-layers: ${problems.length} problem(s)`);
  Deno.exit(1);
}
console.log(`check-layers: ${files.length} modules, imports point downward, no cycles`);
