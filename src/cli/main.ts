#!/usr/bin/env node
/** The `tollgate` executable. Everything it does lives in ./run.ts, testable without a process. */
import { main, processIo } from './run.js';

process.exitCode = await main(process.argv.slice(2), processIo());
