#!/usr/bin/env node
import { run } from './index';

run(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`larder: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
