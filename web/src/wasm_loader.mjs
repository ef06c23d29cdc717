// Loads one of hearth's MODULARIZE'd wasm modules (CommonJS factory + .wasm) in Node or a
// browser, handing the loader the .wasm bytes itself (Node's fetch cannot read file paths).

export const isNode = typeof process === 'object' && !!process.versions?.node && typeof window === 'undefined';

// jsUrl: path (Node) or URL (browser) of the .cjs factory; the .wasm sits beside it.
// exportName: the factory's EXPORT_NAME. moduleArgs are merged into the Module object.
export async function loadWasmModule(jsUrl, exportName, moduleArgs = {}) {
  const wasmUrl = String(jsUrl).replace(/\.c?js$/, '.wasm');
  let factory;
  let wasmBinary;
  if (isNode) {
    const { createRequire } = await import('node:module');
    const { readFile } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const toPath = (u) => (String(u).startsWith('file:') ? fileURLToPath(u) : String(u));
    const require = createRequire(import.meta.url);
    factory = require(toPath(jsUrl));
    wasmBinary = await readFile(toPath(wasmUrl));
  } else {
    const [src, bin] = await Promise.all([
      fetch(jsUrl).then((r) => { if (!r.ok) throw new Error(`${jsUrl}: HTTP ${r.status}`); return r.text(); }),
      fetch(wasmUrl).then((r) => { if (!r.ok) throw new Error(`${wasmUrl}: HTTP ${r.status}`); return r.arrayBuffer(); }),
    ]);
    // The factory script declares `var <exportName> = ...`; evaluate it in a function scope.
    factory = new Function(`${src}\nreturn ${exportName};`)();
    wasmBinary = bin;
  }
  return factory({ wasmBinary, ...moduleArgs });
}
