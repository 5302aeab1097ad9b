// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof DIR`): top functions
// by self time, and self time grouped by source file / area, excluding idle time.
//
//   npx node bench/profile-summary.ts <file.cpuprofile> [--top 40] [--from S] [--to S]
//
// --from/--to keep only samples in that window (seconds since the profile started), e.g. to drop start-up.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "40" }, from: { type: "string" }, to: { type: "string" } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: profile-summary.ts <file.cpuprofile> [--top N] [--from S] [--to S]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const ROOT = path.resolve(import.meta.dirname, "..");
const SRC = path.join(ROOT, "src") + path.sep;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const fromUs = values.from !== undefined ? Number(values.from) * 1e6 : -Infinity;
const toUs = values.to !== undefined ? Number(values.to) * 1e6 : Infinity;

/** Nearest frame on the stack (the node itself or an ancestor) in perdure's own sources, memoised. */
const nearestSrc = new Map<number, string>();
function srcFrameOf(id: number): string {
  const cached = nearestSrc.get(id);
  if (cached !== undefined) return cached;
  const n = byId.get(id)!;
  const u = n.callFrame.url.replace(/^file:\/\//, "");
  let label: string;
  if (u.startsWith(SRC)) label = `${n.callFrame.functionName || "(anonymous)"} ${path.relative(ROOT, u)}:${n.callFrame.lineNumber + 1}`;
  else {
    const p = parent.get(id);
    label = p === undefined ? "(outside perdure code: event loop, GC, startup)" : srcFrameOf(p);
  }
  nearestSrc.set(id, label);
  return label;
}

const selfUs = new Map<number, number>();
let t = 0;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  // The delta before sample i+1 is the time spent in sample i.
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (t < fromUs || t > toUs) continue;
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  total += dt;
}

function where(cf: CallFrame): string {
  if (!cf.url) return "";
  let u = cf.url.replace(/^file:\/\//, "");
  if (u.startsWith(ROOT)) u = path.relative(ROOT, u);
  return `${u}:${cf.lineNumber + 1}`;
}
function area(cf: CallFrame): string {
  const u = cf.url.replace(/^file:\/\//, "");
  if (!u) return cf.functionName.startsWith("(") ? cf.functionName : "(native/V8 builtins)";
  if (u.startsWith("node:")) {
    const m = /^node:(?:internal\/)?([^/]+(?:\/[^/]+)?)/.exec(u);
    return `node:${m ? m[1] : u}`;
  }
  const rel = u.startsWith(ROOT) ? path.relative(ROOT, u) : u;
  if (rel.includes("node_modules/")) return rel.replace(/.*node_modules\/((?:@[^/]+\/)?[^/]+).*/, "npm:$1");
  return rel.replace(/\/[^/]+$/, "/");
}

const idle = new Set(["(idle)"]);
let idleUs = 0;
const fnSelf = new Map<string, { us: number; label: string }>();
const areaSelf = new Map<string, number>();
const attributed = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const cf = n.callFrame;
  if (idle.has(cf.functionName)) {
    idleUs += us;
    continue;
  }
  const key = `${cf.functionName}|${cf.url}|${cf.lineNumber}`;
  const label = `${cf.functionName || "(anonymous)"} ${where(cf)}`.trim();
  const e = fnSelf.get(key) ?? { us: 0, label };
  e.us += us;
  fnSelf.set(key, e);
  const a = area(cf);
  areaSelf.set(a, (areaSelf.get(a) ?? 0) + us);
  const owner = cf.functionName === "(garbage collector)" || cf.functionName === "(program)" ? cf.functionName : srcFrameOf(id);
  attributed.set(owner, (attributed.get(owner) ?? 0) + us);
}
const busy = total - idleUs;
const pct = (us: number) => ((100 * us) / busy).toFixed(1).padStart(5);
console.log(`profile ${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(idleUs / 1e6).toFixed(2)} s idle, ${(busy / 1e6).toFixed(2)} s busy (percentages are of busy time)`);
console.log("\nTop functions by self time:");
for (const e of [...fnSelf.values()].sort((a, b) => b.us - a.us).slice(0, Number(values.top))) {
  console.log(`${pct(e.us)}%  ${(e.us / 1000).toFixed(0).padStart(7)} ms  ${e.label}`);
}
console.log("\nSelf time by area:");
for (const [a, us] of [...areaSelf.entries()].sort((x, y) => y[1] - x[1]).slice(0, 30)) {
  console.log(`${pct(us)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${a}`);
}
console.log("\nSelf time attributed to the nearest perdure function on the stack (node/V8 internals included):");
for (const [a, us] of [...attributed.entries()].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top))) {
  console.log(`${pct(us)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${a}`);
}
