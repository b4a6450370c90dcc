// Starts a compute worker: the wasm-bindgen glue (worker.js, no-modules target) and then its
// module. Written here rather than by Trunk's `data-loader-shim`, whose loader passes the path
// as a bare string, a form wasm-bindgen 0.2.130 still accepts but warns about on every worker.
importScripts("./worker.js");
wasm_bindgen({ module_or_path: "./worker_bg.wasm" });
