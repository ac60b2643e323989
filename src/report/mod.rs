//! Results: the per-call model and its exporters (JSON lines, CSV).

pub mod export;
pub mod model;

pub use model::CallReport;
