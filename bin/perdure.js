#!/usr/bin/env node
// The `perdure` command: runs the server entry point (TypeScript, run directly by Node 24's type stripping).
import "../src/main.ts";
