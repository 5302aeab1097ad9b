#!/usr/bin/env -S node --max-semi-space-size=8 --max-old-space-size=256
// The `perdure` command: runs the server entry point (TypeScript, run directly by Node 24's type stripping).
// A small young generation (--max-semi-space-size=8) and a 256 MB cap on the JS heap (--max-old-space-size=256:
// V8 then collects the old generation before it grows; payloads live outside that heap) keep the resident size
// near 130 MB under load at the same speed. Raise the cap for very large backlogs:
// `node --max-old-space-size=1024 node_modules/perdure/bin/perdure.js`.
import "../src/main.js";
