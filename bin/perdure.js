#!/usr/bin/env -S node --max-semi-space-size=8
// The `perdure` command: runs the server entry point (TypeScript, run directly by Node 24's type stripping).
// A small young generation (--max-semi-space-size=8) keeps the resident size down under load at the same speed.
import "../src/main.ts";
