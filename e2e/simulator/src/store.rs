//! In-memory data model. Everything lives behind one mutex in [`crate::Sim`];
//! handlers take the lock, read or change plain structs, and render
//! documents with [`crate::jsonapi`] before releasing it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub type Time = DateTime<Utc>;

#[derive(Debug, Clone, Default)]
pub struct Store {
    pub organizations: Vec<Organization>,
    pub projects: Vec<Project>,
    pub users: Vec<User>,
    pub workspaces: Vec<Workspace>,
    pub runs: Vec<Run>,
    pub state_versions: Vec<StateVersion>,
    pub policies: Vec<Policy>,
    /// Generic resources ([`crate::records`]).
    pub records: Vec<crate::records::Record>,
    /// Opaque blob key (the last path segment of an archivist URL) to what it serves.
    pub blobs: HashMap<String, BlobRef>,
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub name: String,
    pub external_id: String,
    pub email: String,
    pub created_at: Time,
    pub default_project_id: String,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub org: String,
    pub name: String,
    pub description: String,
    pub created_at: Time,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockHolder {
    User(String),
    Run(String),
}

#[derive(Debug, Clone)]
pub struct Lock {
    pub holder: LockHolder,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: String,
    pub org: String,
    pub name: String,
    pub description: Option<String>,
    pub project_id: String,
    pub created_at: Time,
    pub updated_at: Time,
    pub tags: Vec<String>,
    pub terraform_version: String,
    pub auto_apply: bool,
    pub execution_mode: String,
    pub working_directory: Option<String>,
    pub allow_destroy_plan: bool,
    pub lock: Option<Lock>,
    pub current_state_version: Option<String>,
    /// SSH key (`sshkey-...`) used to fetch private modules.
    pub ssh_key_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Pending,
    PlanQueued,
    Planning,
    Planned,
    PlannedAndFinished,
    Confirmed,
    ApplyQueued,
    Applying,
    Applied,
    Discarded,
    Errored,
    Canceled,
    /// A mandatory post-plan run task or policy evaluation failed: the run
    /// waits for its task stage to be overridden (or the run discarded).
    PostPlanAwaitingDecision,
    /// The post-plan stage passed; the run waits for confirmation.
    PostPlanCompleted,
}

impl RunStatus {
    pub const ALL: [RunStatus; 14] = [
        RunStatus::Pending,
        RunStatus::PlanQueued,
        RunStatus::Planning,
        RunStatus::Planned,
        RunStatus::PlannedAndFinished,
        RunStatus::Confirmed,
        RunStatus::ApplyQueued,
        RunStatus::Applying,
        RunStatus::Applied,
        RunStatus::Discarded,
        RunStatus::Errored,
        RunStatus::Canceled,
        RunStatus::PostPlanAwaitingDecision,
        RunStatus::PostPlanCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::PlanQueued => "plan_queued",
            RunStatus::Planning => "planning",
            RunStatus::Planned => "planned",
            RunStatus::PlannedAndFinished => "planned_and_finished",
            RunStatus::Confirmed => "confirmed",
            RunStatus::ApplyQueued => "apply_queued",
            RunStatus::Applying => "applying",
            RunStatus::Applied => "applied",
            RunStatus::Discarded => "discarded",
            RunStatus::Errored => "errored",
            RunStatus::Canceled => "canceled",
            RunStatus::PostPlanAwaitingDecision => "post_plan_awaiting_decision",
            RunStatus::PostPlanCompleted => "post_plan_completed",
        }
    }

    /// The `status-timestamps` key HCP Terraform records on entering this status.
    pub fn timestamp_key(self) -> &'static str {
        match self {
            RunStatus::Pending => "plan-queueable-at",
            RunStatus::PlanQueued => "plan-queued-at",
            RunStatus::Planning => "planning-at",
            RunStatus::Planned => "planned-at",
            RunStatus::PlannedAndFinished => "planned-and-finished-at",
            RunStatus::Confirmed => "confirmed-at",
            RunStatus::ApplyQueued => "apply-queued-at",
            RunStatus::Applying => "applying-at",
            RunStatus::Applied => "applied-at",
            RunStatus::Discarded => "discarded-at",
            RunStatus::Errored => "errored-at",
            RunStatus::Canceled => "canceled-at",
            RunStatus::PostPlanAwaitingDecision => "post-plan-awaiting-decision-at",
            RunStatus::PostPlanCompleted => "post-plan-completed-at",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, RunStatus::Applied | RunStatus::PlannedAndFinished | RunStatus::Discarded | RunStatus::Errored | RunStatus::Canceled)
    }

    /// Waiting for someone to confirm (apply) or discard the plan.
    pub fn awaits_confirmation(self) -> bool {
        matches!(self, RunStatus::Planned | RunStatus::PostPlanCompleted)
    }

    /// Waiting for a decision about a failed task stage (override or discard).
    pub fn awaits_decision(self) -> bool {
        matches!(self, RunStatus::PostPlanAwaitingDecision)
    }
}

/// A plan or apply phase of a run; both share the same status vocabulary
/// (pending, queued, running, finished, canceled, errored, unreachable).
#[derive(Debug, Clone)]
pub struct Phase {
    pub id: String,
    pub status: &'static str,
    /// (key, time) in the order they happened; keys like `queued-at`.
    pub timestamps: Vec<(&'static str, Time)>,
    pub additions: u32,
    pub changes: u32,
    pub destructions: u32,
    pub log_blob: String,
}

impl Phase {
    pub fn new(id: String, log_blob: String, now: Time) -> Self {
        Phase { id, status: "pending", timestamps: vec![("pending-at", now)], additions: 0, changes: 0, destructions: 0, log_blob }
    }

    pub fn set(&mut self, status: &'static str, key: &'static str, now: Time) {
        self.status = status;
        self.timestamps.push((key, now));
    }
}

#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub workspace_id: String,
    pub status: RunStatus,
    pub message: String,
    pub plan_only: bool,
    pub auto_apply: bool,
    pub is_destroy: bool,
    pub refresh: bool,
    pub refresh_only: bool,
    pub allow_empty_apply: bool,
    pub terraform_version: String,
    pub target_addrs: Vec<String>,
    pub replace_addrs: Vec<String>,
    pub source: String,
    pub trigger_reason: String,
    pub created_at: Time,
    pub created_by: Option<String>,
    pub confirmed_by: Option<String>,
    pub status_timestamps: Vec<(&'static str, Time)>,
    pub plan: Phase,
    pub apply: Phase,
    pub plan_json_blob: String,
    /// The state version written when the apply finished.
    pub state_version_id: Option<String>,
}

impl Run {
    pub fn set_status(&mut self, status: RunStatus, now: Time) {
        self.status = status;
        self.status_timestamps.push((status.timestamp_key(), now));
    }

    pub fn timestamp(&self, key: &str) -> Option<Time> {
        self.status_timestamps.iter().rev().find(|(k, _)| *k == key).map(|(_, t)| *t)
    }
}

#[derive(Debug, Clone)]
pub struct StateOutput {
    pub id: String,
    pub name: String,
    pub value: Value,
    /// Terraform type expression, e.g. `"string"` or `["list","string"]`.
    pub type_expr: Value,
    pub sensitive: bool,
}

#[derive(Debug, Clone)]
pub struct ResourceInstance {
    pub index_key: Option<Value>,
    pub attributes: Value,
}

#[derive(Debug, Clone)]
pub struct StateResource {
    /// `None` for the root module, else e.g. `module.media_bucket`.
    pub module: Option<String>,
    /// `managed` or `data`.
    pub mode: String,
    pub type_name: String,
    pub name: String,
    /// Full provider address, e.g. `provider["registry.terraform.io/hashicorp/aws"]`.
    pub provider: String,
    pub instances: Vec<ResourceInstance>,
}

#[derive(Debug, Clone)]
pub struct StateVersion {
    pub id: String,
    pub workspace_id: String,
    pub serial: u64,
    pub lineage: String,
    pub terraform_version: String,
    pub created_at: Time,
    pub run_id: Option<String>,
    pub created_by: Option<String>,
    pub outputs: Vec<StateOutput>,
    pub resources: Vec<StateResource>,
    pub state_blob: String,
    pub json_blob: String,
}

impl StateVersion {
    pub fn instance_count(&self) -> usize {
        self.resources.iter().filter(|r| r.mode == "managed").map(|r| r.instances.len()).sum()
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub org: String,
    pub name: String,
    pub description: Option<String>,
    /// `sentinel` or `opa`.
    pub kind: String,
    pub query: Option<String>,
    pub enforcement_level: String,
    pub policy_set_ids: Vec<String>,
    pub updated_at: Time,
}

/// What an opaque blob URL serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobRef {
    /// Raw `terraform.tfstate` (format version 4) of a state version.
    State(String),
    /// `terraform show -json` rendering of a state version.
    JsonState(String),
    /// Plan log of a run (STX/ETX framed, as archivist serves logs).
    PlanLog(String),
    /// Apply log of a run.
    ApplyLog(String),
    /// `terraform show -json` of a run's plan.
    PlanJson(String),
    /// A fixed document (an assessment's JSON plan or JSON log).
    Fixed { content_type: &'static str, body: String },
}

impl Store {
    pub fn organization(&self, name: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.name == name)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    pub fn workspace_mut(&mut self, id: &str) -> Option<&mut Workspace> {
        self.workspaces.iter_mut().find(|w| w.id == id)
    }

    pub fn workspace_by_name(&self, org: &str, name: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.org == org && w.name == name)
    }

    pub fn run(&self, id: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.id == id)
    }

    pub fn run_mut(&mut self, id: &str) -> Option<&mut Run> {
        self.runs.iter_mut().find(|r| r.id == id)
    }

    pub fn run_by_plan(&self, plan_id: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.plan.id == plan_id)
    }

    pub fn run_by_apply(&self, apply_id: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.apply.id == apply_id)
    }

    /// Runs of a workspace, newest first (the API's order).
    pub fn workspace_runs(&self, ws_id: &str) -> Vec<&Run> {
        let mut runs: Vec<&Run> = self.runs.iter().filter(|r| r.workspace_id == ws_id).collect();
        runs.reverse();
        runs
    }

    pub fn latest_run(&self, ws_id: &str) -> Option<&Run> {
        self.runs.iter().rev().find(|r| r.workspace_id == ws_id)
    }

    pub fn state_version(&self, id: &str) -> Option<&StateVersion> {
        self.state_versions.iter().find(|s| s.id == id)
    }

    pub fn current_state_version(&self, ws_id: &str) -> Option<&StateVersion> {
        self.workspace(ws_id).and_then(|w| w.current_state_version.as_deref()).and_then(|id| self.state_version(id))
    }

    /// Finds an output by id together with the state version holding it.
    pub fn output(&self, id: &str) -> Option<(&StateVersion, &StateOutput)> {
        self.state_versions.iter().find_map(|sv| sv.outputs.iter().find(|o| o.id == id).map(|o| (sv, o)))
    }

    pub fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id == id)
    }

    /// Human-readable lock holder, as used in HCP Terraform's 409 details
    /// ("... is locked by Run run-xxx", "... is locked by User alice").
    pub fn describe_holder(&self, holder: &LockHolder) -> String {
        match holder {
            LockHolder::Run(id) => format!("Run {id}"),
            LockHolder::User(id) => match self.user(id) {
                Some(u) => format!("User {}", u.username),
                None => format!("User {id}"),
            },
        }
    }
}
