// `node:http`, loaded with require instead of import. Importing it as an ES module builds its ESM facade, which
// reads every export, including the lazy WebSocket/EventSource ones that load Node's bundled undici: about 15 ms
// of start-up for code perdure never uses. Types still come from `import type ... from "node:http"`.

import { createRequire } from "node:module";
import type * as NodeHttp from "node:http";

export const http: typeof NodeHttp = createRequire(import.meta.url)("node:http") as typeof NodeHttp;
