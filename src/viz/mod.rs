//! Pure plot math for the views: no DOM, no I/O, so it is tested natively.

pub mod layout;
pub mod plot;
pub mod posterior;

/// The DAG view's zoom levels, as factors of its legible size (the page's buttons and a
/// link's `view.zoom` stay inside them).
pub const ZOOM_RANGE: (f64, f64) = (0.5, 4.0);
