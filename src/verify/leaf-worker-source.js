// The verification worker when leaf-pool.ts runs from the TypeScript sources (tests, benchmarks):
// a worker thread does not inherit its parent's TypeScript loader, so this registers tsx (a dev
// dependency), then runs leaf-worker.ts. Compiled code starts its workers on dist/verify/leaf-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./leaf-worker.ts');
