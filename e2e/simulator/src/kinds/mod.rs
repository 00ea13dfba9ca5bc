//! Generic resources by API area ([`crate::records`] rows and their seeds).
//! One module per area; each exports `KINDS`, optionally
//! `RELATIONSHIP_LISTS`, and `seed`.

pub mod variables;
