'use strict';
// The native addon, or why it could not be loaded (callers fall back to TypeScript). The static
// require path is what lets `bun build --compile` embed the .node file in the binary.
try {
  module.exports = require('./build/Release/dynamo_native.node');
} catch (e) {
  module.exports = {loadError: String(e?.message || e)};
}
