// What compiled code imports for snapshots (re-exported by runtime/internal.ts): the
// saveable for-of iterator, module values by reference, automatic class registration.
export { $iter } from '../iter.js';
export { registerValue } from '../compiled.js';
export { registerClass } from './builtins.js';
