//! Variables inside a variable set, and the variable sets that apply to one
//! workspace or project (`/varsets/:id/relationships/vars`,
//! `/workspaces/:id/varsets`, `/projects/:id/varsets`). A sensitive
//! variable's value is write-only: the argument is marked secret and the
//! answer never carries it (see `execute::postprocess`).

use super::super::{Body, Kind as K, Method as M, Param as P, ToolSpec, Verb as V};

fn varset_id() -> P {
    P::path("varset_id", "Variable set id (`varset-...`). Find it with list_all_hashicorp_terraform_cloud_variable_sets.")
}

fn varset_variable_id() -> P {
    P::path(
        "varset_variable_id",
        "Variable id (`var-...`) of a variable in this set (list_all_hashicorp_terraform_cloud_variable_set_variables).",
    )
}

/// Settings shared by create and update (the documented `vars` attributes).
fn settings(required: bool) -> Vec<P> {
    let req = |p: P| if required { p.required() } else { p };
    vec![
        req(P::attr("key", "key", K::String, "Variable name.")),
        P::attr("value", "value", K::String, "Value (an HCL expression when hcl is true). Write-only when sensitive.").secret(),
        P::attr("description", "description", K::String, "Description."),
        req(P::attr("category", "category", K::String, "Terraform input variable or environment variable.").one_of(&["terraform", "env"])),
        P::attr("hcl", "hcl", K::Boolean, "Parse the value as HCL."),
        P::attr("sensitive", "sensitive", K::Boolean, "Write-only: the value can never be read back."),
    ]
}

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_variable_set_variables",
            M::List,
            "variable-sets",
            "List a variable set's variables",
            V::Get,
            "/varsets/{varset_id}/relationships/vars",
            "List the variables of a variable set (sensitive values are never returned).",
        )
        .params(vec![varset_id()]),
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_variable_set_variable",
            M::Create,
            "variable-sets",
            "Add a variable to a variable set",
            V::Post,
            "/varsets/{varset_id}/relationships/vars",
            "Add a Terraform or environment variable to a variable set (it applies wherever the set applies).",
        )
        .params([vec![varset_id()], settings(true)].concat())
        .body(Body::Resource("vars")),
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_variable_set_variable_by_id",
            M::Update,
            "variable-sets",
            "Update a variable of a variable set",
            V::Patch,
            "/varsets/{varset_id}/relationships/vars/{varset_variable_id}",
            "Update a variable of a variable set. Only the given fields change.",
        )
        .params([vec![varset_id(), varset_variable_id()], settings(false)].concat())
        .body(Body::Resource("vars")),
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_variable_set_variable_by_id",
            M::Delete,
            "variable-sets",
            "Delete a variable of a variable set",
            V::Delete,
            "/varsets/{varset_id}/relationships/vars/{varset_variable_id}",
            "Delete a variable from a variable set.",
        )
        .params(vec![varset_id(), varset_variable_id()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_workspace_variable_sets",
            M::List,
            "variable-sets",
            "List the variable sets of a workspace",
            V::Get,
            "/workspaces/{workspace_id}/varsets",
            "List the variable sets that apply to a workspace (directly, through its project, or global).",
        )
        .params(vec![super::ws_id(), super::search_query()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_project_variable_sets",
            M::List,
            "variable-sets",
            "List the variable sets of a project",
            V::Get,
            "/projects/{project_id}/varsets",
            "List the variable sets applied to a project or owned by it.",
        )
        .params(vec![P::path("project_id", "Project id (`prj-...`)."), super::search_query()]),
    ]
}
