//! Key-value tags ("tag bindings") of workspaces and projects, and the
//! `filter[tagged]` filter of the workspace list. A workspace's effective
//! bindings are its own plus those it inherits from its project.

use crate::catalog::{Body, Kind as K, Loc, Method as M, Param as P, ToolSpec, Verb as V};

/// The `tag_bindings` argument of workspace and project create/update: the
/// `tag-bindings` relationship, which replaces every binding of the resource.
pub(super) fn relationship(what: &'static str) -> P {
    let description = match what {
        "workspace" => {
            "Key-value tags [{key, value}] (value may be \"\"); on update this REPLACES all of the workspace's own tag bindings ([] removes them). To add or change some, use hashicorp_terraform_cloud_tag_bindings_add_or_update."
        }
        _ => {
            "Key-value tags [{key, value}] (value may be \"\"), inherited by the project's workspaces; on update this REPLACES all of the project's tag bindings ([] removes them)."
        }
    };
    P::new("tag_bindings", K::KeyValueList, Loc::Rel { rel: "tag-bindings", type_: "tag-bindings" }, description)
}

/// `tagged: ["env:prod", "team"]` on the workspace list.
pub(super) fn tagged_filter() -> P {
    P::new(
        "tagged",
        K::StringList,
        Loc::TagFilter("filter[tagged]"),
        "Only workspaces with ALL of these key-value tags (own or inherited from the project): `key:value`, or `key` for any value, e.g. [\"env:prod\", \"team\"].",
    )
}

fn ws_or_project() -> Vec<P> {
    vec![
        P::path("workspace_id", "Workspace id (`ws-...`); give this or project_id.").optional(),
        P::path("project_id", "Project id (`prj-...`); give this or workspace_id.").optional(),
    ]
}

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_tag_bindings",
            M::List,
            "tags",
            "List key-value tags",
            V::Get,
            "/workspaces/{workspace_id}/tag-bindings",
            "List the key-value tags set directly on a workspace (workspace_id) or a project (project_id).",
        )
        .alt_path("/projects/{project_id}/tag-bindings")
        .params(ws_or_project()),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_effective_tag_bindings",
            M::List,
            "tags",
            "List effective key-value tags",
            V::Get,
            "/workspaces/{workspace_id}/effective-tag-bindings",
            "List the key-value tags that apply to a workspace (its own plus those inherited from its project; inherited ones carry links.inherited_from) or to a project.",
        )
        .alt_path("/projects/{project_id}/effective-tag-bindings")
        .params(ws_or_project()),
        ToolSpec::new(
            "hashicorp_terraform_cloud_tag_bindings_add_or_update",
            M::Custom,
            "tags",
            "Add or update key-value tags",
            V::Patch,
            "/workspaces/{workspace_id}/tag-bindings",
            "Add key-value tags to a workspace or project, or change the value of keys it already has; other tags are kept.",
        )
        .alt_path("/projects/{project_id}/tag-bindings")
        .params(
            [
                ws_or_project(),
                vec![
                    P::local("tag_bindings", K::KeyValueList, "Tags to add or update: [{key, value}] (value may be \"\").")
                        .required(),
                ],
            ]
            .concat(),
        )
        .body(Body::TagBindings),
    ]
}
