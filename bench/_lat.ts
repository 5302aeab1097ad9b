import http from "node:http";
import { startPerdure } from "../test/support/perdure-process.ts";
import { registerDeployment } from "../test/support/admin-client.ts";
import { spawn } from "node:child_process";
const svc = spawn(process.execPath, ["bench/services.ts", "--port", "19080", "--stats-port", "19081"], { stdio: "ignore" });
await new Promise((r) => setTimeout(r, 1500));
const extra = (process.argv[2] ?? "").split(" ").filter(Boolean);
const s = await startPerdure({ extraArgs: ["--log-level", "warn", ...extra] });
await registerDeployment(s.adminUrl, "http://127.0.0.1:19080");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = () => new Promise<void>((resolve, reject) => {
  const req = http.request(`${s.ingressUrl}/BenchSvc/noop`, { method: "POST", agent }, (res) => { res.resume(); res.on("end", () => resolve()); });
  req.on("error", reject); req.end();
});
for (let i = 0; i < 200; i++) await call();
const ts: number[] = [];
const t0 = performance.now();
while (performance.now() - t0 < 3000) { const a = performance.now(); await call(); ts.push(performance.now() - a); }
ts.sort((a, b) => a - b);
console.log(extra.join(" ") || "default", "n", ts.length, "p50", ts[ts.length >> 1]!.toFixed(2), "p90", ts[Math.floor(ts.length * 0.9)]!.toFixed(2), "p99", ts[Math.floor(ts.length * 0.99)]!.toFixed(2));
await s.dispose(); svc.kill(); agent.destroy();
