//! Stacks, shaped like the stacks and stack-deployments samples: a stack
//! names its project (no organization relationship), its deployments are
//! named, and each deployment has runs. acme-corp has `platform-stack`
//! (deployments `staging` and `production`), globex has `globex-stack`.
//! Deployment runs by stack and deployment name are served by
//! [`crate::routes::stacks`].

use serde_json::json;

use crate::records::{Kind, Ops, Parent, READ_ONLY, Record};
use crate::seed::{ORG, SECOND_ORG};
use crate::store::{Store, Time};

const LIST_ONLY: Ops = Ops { list: true, create: false, show: false, update: false, delete: false };
const SHOW_ONLY: Ops = Ops { list: false, create: false, show: true, update: false, delete: false };

pub const STACK: Kind =
    Kind { ops: READ_ONLY, ..Kind::new("stacks", "st", "/organizations/{parent}/stacks", "/stacks/{id}", Parent::Organization, None) };

pub const STACK_DEPLOYMENT: Kind = Kind {
    ops: LIST_ONLY,
    ..Kind::new(
        "stack-deployments",
        "std",
        "/stacks/{parent}/stack-deployments",
        "/stack-deployments/{id}",
        Parent::Record("stacks"),
        Some("stack"),
    )
};

pub const STACK_DEPLOYMENT_RUN: Kind = Kind {
    ops: SHOW_ONLY,
    ..Kind::new(
        "stack-deployment-runs",
        "sdr",
        "/stack-deployments/{parent}/stack-deployment-runs",
        "/stack-deployment-runs/{id}",
        Parent::Record("stack-deployments"),
        None,
    )
};

pub const KINDS: &[Kind] = &[STACK, STACK_DEPLOYMENT, STACK_DEPLOYMENT_RUN];

pub const STACK_PLATFORM: &str = "st-AcmePlatform0001";
pub const STACK_GLOBEX: &str = "st-GlobexStack00001";

pub fn seed(store: &mut Store, at: Time) {
    for (id, org, name) in [(STACK_PLATFORM, ORG, "platform-stack"), (STACK_GLOBEX, SECOND_ORG, "globex-stack")] {
        let project = store.organization(org).map(|o| o.default_project_id.clone()).unwrap_or_default();
        store.records.push(
            Record::seeded(
                &STACK,
                id,
                org,
                json!({"name": name, "description": format!("{name} for the platform components"), "speculative-enabled": false,
                       "locked": false, "lock-reason": "",
                       "linked-stack-connections": {"upstream-count": 0, "downstream-count": 0, "inputs-count": 0, "outputs-count": 0},
                       "vcs-repo": {"branch": "", "tags-regex": "", "identifier": format!("{org}/{name}"),
                                    "display-identifier": format!("{org}/{name}"), "oauth-token-id": "ot-AcmeGithub000001",
                                    "repository-http-url": format!("https://github.com/{org}/{name}"),
                                    "service-provider": "github", "trigger-disabled": false},
                       "updated-at": "2025-05-09T21:15:47.727Z"}),
                at,
            )
            .with_rel("project", "projects", &project),
        );
        let deployments: &[&str] = if org == ORG { &["staging", "production"] } else { &["default"] };
        for d in deployments {
            let dep_id = format!("{id}-std-{d}");
            let runs: Vec<String> = (0..2).map(|n| crate::ids::derived_id("sdr", &format!("{dep_id}/{n}"))).collect();
            store.records.push(Record::seeded(&STACK_DEPLOYMENT, &dep_id, id, json!({"name": d}), at).with_rel(
                "latest-deployment-run",
                "stack-deployment-runs",
                &runs[1],
            ));
            for (n, run) in runs.iter().enumerate() {
                let status = if n == 1 && *d == "production" { "pending_approval" } else { "succeeded" };
                store.records.push(Record::seeded(
                    &STACK_DEPLOYMENT_RUN,
                    run,
                    &dep_id,
                    json!({"status": status, "deployment": d, "completed-at": if status == "succeeded" { json!("2025-05-10T08:00:00.000Z") } else { json!(null) }}),
                    at + chrono::Duration::minutes(n as i64),
                ));
            }
        }
    }
}
