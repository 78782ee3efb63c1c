#!/usr/bin/env node
// Committed, unlike dist/, so that `pnpm install` can link this bin before the first build.
await import('../dist/bin.js');
