//! The native half of the same-bits check: SDCD's fingerprint here equals the constant that
//! `tests/wasm.rs` checks in wasm, so a link reproduces in the page what a native run gives.

mod common;

#[test]
fn sdcd_gives_the_recorded_bits_natively() {
    assert_eq!(
        common::sdcd_fingerprint(),
        common::SDCD_FINGERPRINT,
        "SDCD's bits changed natively; if on purpose, update SDCD_FINGERPRINT (tests/common)"
    );
}
