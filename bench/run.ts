/** `npm run bench`: runs every benchmark and writes its figures to outputs/bench-*.json. */
import { runCoreBenchmarks } from './core.js';

const core = runCoreBenchmarks();
console.log(JSON.stringify(core.result, null, 2));
console.log(`core benchmarks written to ${core.path}`);
