//! Pure plot math for the views: no DOM, no I/O, so it is tested natively.

pub mod layout;
pub mod plot;
pub mod posterior;
