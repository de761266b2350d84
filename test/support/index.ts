export * from './nodes.js';
export * from './proxy.js';
