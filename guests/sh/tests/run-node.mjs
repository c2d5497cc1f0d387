// Run sh.wasm under Node's WASI with the `skiff` imports stubbed (spawn/pipe fail with
// ENOSYS), to try builtin-only scripts for real:  node run-node.mjs path/to/sh.wasm -c 'echo hi'
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";
const [wasmPath, ...args] = process.argv.slice(2);
const wasi = new WASI({
  version: "preview1",
  args: ["sh", ...args],
  env: { PATH: "/bin", HOME: "/root", PWD: process.env.SH_PWD || "/" },
  preopens: { "/": process.env.SH_ROOT || "/" },
  returnOnExit: true,
});
const ENOSYS = -52;
const skiff = new Proxy({}, { get: () => () => ENOSYS });
const mod = await WebAssembly.compile(readFileSync(wasmPath));
const inst = await WebAssembly.instantiate(mod, { wasi_snapshot_preview1: wasi.wasiImport, skiff });
process.exitCode = wasi.start(inst);
