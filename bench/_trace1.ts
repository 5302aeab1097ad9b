import http from "node:http";
import { spawn, spawnSync } from "node:child_process";
import { startPerdure } from "../test/support/perdure-process.ts";
import { registerDeployment } from "../test/support/admin-client.ts";
const svc = spawn(process.execPath, ["bench/services.ts", "--port", "19080", "--stats-port", "19081"], { stdio: "ignore" });
await new Promise((r) => setTimeout(r, 1500));
const s = await startPerdure({ extraArgs: ["--log-level", "warn"] });
await registerDeployment(s.adminUrl, "http://127.0.0.1:19080");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = () => new Promise<void>((resolve, reject) => {
  const req = http.request(`${s.ingressUrl}/BenchSvc/noop`, { method: "POST", agent }, (res) => { res.resume(); res.on("end", () => resolve()); });
  req.on("error", reject); req.end();
});
for (let i = 0; i < 300; i++) await call();
const tids = spawnSync("ls", [`/proc/${s.pid}/task`], { encoding: "utf8" }).stdout.trim().split("\n");
const st = spawn("strace", ["-ttt", "-f", "-e", "trace=!futex,mprotect,madvise", "-o", "/tmp/trace1.txt", ...tids.flatMap((t) => ["-p", t])], { stdio: "ignore" });
await new Promise((r) => setTimeout(r, 1000));
for (let i = 0; i < 3; i++) { const a = performance.now(); await call(); console.log("call ms", (performance.now() - a).toFixed(2)); await new Promise((r) => setTimeout(r, 100)); }
st.kill("SIGINT"); await new Promise((r) => setTimeout(r, 500));
await s.dispose(); svc.kill(); agent.destroy();
