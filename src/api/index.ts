export * from './server.js';
export * from './context.js';
export { PlatformMetrics } from './metrics.js';
