/**
 * The SharedWorker that holds one hub connection for every tab of an origin (see share.ts). Served
 * by the hub at /client/ssehub-worker.js beside the library, which it imports; a bundler (Vite)
 * finds it through the library's `new SharedWorker(new URL('./ssehub-worker.js', import.meta.url))`.
 */
import { serveWorker } from './ssehub.js';

serveWorker(self);
