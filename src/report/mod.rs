//! Results: the per-call model and its exporters (JSON lines, CSV), and the supervisor's
//! report (agent identity, per-agent aggregation, plots, offline HTML).

pub mod agents;
pub mod export;
pub mod extsort;
pub mod fonts;
pub mod html;
pub mod identity;
pub mod model;
pub mod plots;

pub use model::CallReport;
