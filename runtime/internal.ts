// `stackless/internal`: what compiled code imports (docs/protocol.md): the `rt`
// object, the array-callback helpers, and `schedule` (forced switches in tests).
// Importing it loads the whole runtime, so compiled modules work on their own.
export { rt, Rt, type Frame } from './rt.js';
export { $forEach, $map, $filter, $reduce, $some, $every, $find, $findIndex, $flatMap, $sort } from './arrays.js';
export { schedule } from './api.js';
export { $yield, TDZ, tdzWrite, markObject, accessors, superGet, superSet, unsaveable, tag, key, keyName, registerFunction, functionRegistry, registerFactory, factoryRegistry, closure, closureInfo } from './compiled.js';
import './index.js';
// snapshots: the saveable for-of iterator, module values by reference, automatic class registration
export { $iter, $iterm } from './iter.js';
export { registerValue, registerModule } from './compiled.js';
export { registerClass } from './snapshot/builtins.js';
