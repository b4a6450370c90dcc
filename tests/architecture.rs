//! Guards the architecture's first invariant: the compute core (everything outside `src/ui` and
//! `src/worker`) uses no browser crates, clocks, threads or I/O, so it builds and is tested
//! natively and stays steppable.

use std::fs;
use std::path::Path;

const FORBIDDEN: [&str; 9] = [
    "web_sys",
    "js_sys",
    "wasm_bindgen",
    "leptos",
    "gloo",
    "std::time",
    "std::thread",
    "std::fs",
    "std::net",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_compute_core_has_no_web_crates_clocks_threads_or_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let core: Vec<_> = files
        .into_iter()
        .filter(|p| {
            let rel = p.strip_prefix(&src).unwrap();
            !rel.starts_with("ui") && !rel.starts_with("worker") && !rel.starts_with("bin")
        })
        .collect();
    assert!(core.len() > 10, "the core's files were found");
    let mut offences = Vec::new();
    for path in core {
        let text = fs::read_to_string(&path).expect("readable");
        // Unit tests (at the bottom of each file) may time themselves.
        let code_part = text.split("#[cfg(test)]").next().unwrap_or("");
        for (line_no, line) in code_part.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    offences.push(format!("{}:{}: {word}", path.display(), line_no + 1));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the core must stay plain Rust:\n{}",
        offences.join("\n")
    );
}

#[test]
fn browser_crates_are_wasm32_only_dependencies() {
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .expect("Cargo.toml");
    let (common, _) = manifest
        .split_once("[target.'cfg(target_arch = \"wasm32\")'.dependencies]")
        .expect("a wasm32-only dependency table");
    for krate in [
        "leptos",
        "web-sys",
        "js-sys",
        "wasm-bindgen",
        "serde-wasm-bindgen",
    ] {
        assert!(
            !common
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{krate} "))),
            "{krate} must be a wasm32-only dependency"
        );
    }
}
