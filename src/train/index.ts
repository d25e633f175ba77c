// Training: optimisers as pure {init, update} pairs, LR schedules, the loop, losses, full-parameter models.
export * from './optim.js';
export * from './schedule.js';
export * from './loss.js';
export * from './loop.js';
export * from './full.js';
