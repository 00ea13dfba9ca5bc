//! Generic resources by API area ([`crate::records`] rows and their seeds).
//! One module per area; each exports `KINDS`, optionally
//! `RELATIONSHIP_LISTS`, and `seed`.

pub mod private_registry;
pub mod run_tasks;
pub mod stacks;
pub mod state_history;
pub mod tag_bindings;
pub mod teams;
pub mod variable_sets;
pub mod variables;
pub mod vcs;
pub mod workspace_insights;
