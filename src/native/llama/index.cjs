'use strict';
// The llama.cpp engine addon, or why it could not be loaded. The static require path is what lets
// `bun build --compile` embed the .node file in the binary.
try {
  module.exports = require('./build/Release/dynamo_llama.node');
} catch (e) {
  module.exports = {loadError: String(e?.message || e)};
}
