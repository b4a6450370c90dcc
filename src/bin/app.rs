//! The page's entry point (main thread).
#[cfg(target_arch = "wasm32")]
fn main() {
    causeway::ui::start();
}
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs in a browser: see README (make serve)");
}
