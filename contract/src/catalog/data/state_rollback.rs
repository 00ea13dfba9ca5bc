//! Rolling a workspace's state back to an earlier state version
//! (`PATCH /workspaces/:id/state-versions` with a `rollback-state-version`
//! relationship, as documented). HCP Terraform copies that version into a
//! new current one; the workspace must be locked by the caller first.

use super::super::{Body, Handler, Method as M, Param as P, ToolSpec, Verb as V};

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "hashicorp_terraform_cloud_state_versions_rollback",
            M::Custom,
            "state-versions",
            "Roll back a workspace's state",
            V::Patch,
            "/workspaces/{workspace_id}/state-versions",
            "Make a copy of an earlier state version the workspace's current state. Lock the workspace first (hashicorp_terraform_cloud_workspaces_lock) and unlock it after. The next run plans against the rolled-back state.",
        )
        .params(vec![
            super::ws_id(),
            P::rel(
                "state_version_id",
                "rollback-state-version",
                "state-versions",
                "Earlier state version (`sv-...`) of this workspace to roll back to (list_all_hashicorp_terraform_cloud_state_versions).",
            )
            .required(),
        ])
        .body(Body::Resource("state-versions"))
        .handler(Handler::Conflict(
            "The workspace must be locked by this server's token before its state can be rolled back (and no run may be active): lock it with hashicorp_terraform_cloud_workspaces_lock, roll back, then unlock it.",
        ))
        .destructive(),
    ]
}
