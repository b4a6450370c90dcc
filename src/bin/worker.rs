//! The Web Worker's entry point: all computation runs here, off the page's thread.
#[cfg(target_arch = "wasm32")]
fn main() {
    causeway::worker::start();
}
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser: see README (make serve)");
}
