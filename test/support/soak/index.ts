export * from './model.js';
export { recheckHistory } from './report.js';
export { runSoak } from './run.js';
