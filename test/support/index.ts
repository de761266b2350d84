export * from '../../tools/nodes.js';
export * from './proxy.js';
