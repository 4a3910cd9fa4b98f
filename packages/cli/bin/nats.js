#!/usr/bin/env node
// Runs the bundled command when `npm run build:cli` (or npm install) has built it, else the source.
import { existsSync } from "node:fs"

const bundle = new URL("../dist/nats.mjs", import.meta.url)
await import(existsSync(bundle) ? bundle.href : new URL("../src/nats.ts", import.meta.url).href)
