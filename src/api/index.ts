export * from './server.js';
export * from './context.js';
