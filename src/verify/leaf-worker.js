// Worker threads do not inherit the tsx loader the CLI registers (bin/trailproof.js): register it
// here, then run the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./leaf-worker.ts');
