// Prepended to wasm programs run by Node (tests, the wasm CLI): hands the loader the .wasm
// bytes beside this script, since Node's fetch cannot read file paths.
if (typeof process === 'object' && typeof require === 'function' && !Module['wasmBinary']) {
  var hearthPath = require('path');
  Module['wasmBinary'] = require('fs').readFileSync(
      hearthPath.join(__dirname, hearthPath.basename(__filename, '.js') + '.wasm'));
}
