//! The related records (`include=`) each resource can bring along, as
//! documented under "Available Related Resources" of the API reference
//! (the names go-tfe sends).

use super::Include as I;

/// A run with its plan, apply and cost estimate in one call.
pub const RUN: &[I] = &[
    I::new("plan", "plan"),
    I::new("apply", "apply"),
    I::new("cost_estimate", "cost_estimate"),
    I::new("configuration_version", "configuration_version"),
    I::new("created_by", "created_by"),
    I::new("workspace", "workspace"),
    I::new("task_stages", "task_stages"),
];

/// A no-code module with the allowed values of its variables.
pub const NO_CODE_MODULE: &[I] = &[I::new("variable_options", "variable_options")];

/// A workspace with its current run, state version, project...
pub const WORKSPACE: &[I] = &[
    I::new("current_run", "current_run"),
    I::new("current_run_plan", "current_run.plan"),
    I::new("current_state_version", "current-state-version"),
    I::new("current_configuration_version", "current_configuration_version"),
    I::new("project", "project"),
    I::new("organization", "organization"),
    I::new("locked_by", "locked_by"),
    I::new("outputs", "outputs"),
    I::new("readme", "readme"),
];
