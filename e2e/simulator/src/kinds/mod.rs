//! Generic resources by API area ([`crate::records`] rows and their seeds).
//! One module per area; each exports `KINDS`, optionally
//! `RELATIONSHIP_LISTS`, and `seed`.

pub mod run_tasks;
pub mod state_history;
pub mod variable_sets;
pub mod variables;
