//! The organization's private registry: modules, providers and their
//! versions, no-code modules, and creating a workspace from a no-code
//! module. Registry names go into the path as single segments, checked
//! before any call ([`super::super::segment_ok`]) and percent-encoded.

use super::super::{Body, Kind as K, Method as M, Param as P, ToolSpec, Verb as V};
use super::{org, search_query};

const REGISTRIES: &[&str] = &["private", "public"];

fn registry_name() -> P {
    P::path("registry_name", "`private` for the organization's own modules and providers, `public` for public ones it has added.")
        .one_of(REGISTRIES)
}
fn namespace() -> P {
    P::path("namespace", "Namespace: for private modules and providers, the organization name (e.g. `acme-corp`).").name_segment()
}
fn no_code_module_id() -> P {
    P::path("no_code_module_id", "No-code module id (`nocode-...`). Find it with list_all_hashicorp_terraform_cloud_no_code_modules.")
}

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_registry_modules",
            M::List,
            "private-registry",
            "List registry modules",
            V::Get,
            "/organizations/{organization_name}/registry-modules",
            "List the modules of an organization's private registry (name, namespace, provider, registry_name, status, version_statuses).",
        )
        .params(vec![
            org(),
            search_query(),
            P::query("filter_registry_name", "filter[registry_name]", K::String, "Only private or only public modules.").one_of(REGISTRIES),
            P::query("filter_provider", "filter[provider]", K::String, "Only modules for this provider (e.g. `aws`)."),
        ]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_registry_module_by_id",
            M::Get,
            "private-registry",
            "Show a registry module",
            V::Get,
            "/organizations/{organization_name}/registry-modules/{registry_name}/{namespace}/{module_name}/{module_provider}",
            "Show a registry module with its versions and their status (version_statuses), VCS source and publishing status.",
        )
        .params(vec![
            org(),
            registry_name(),
            namespace(),
            P::path("module_name", "Module name (e.g. `vpc`).").name_segment(),
            P::path("module_provider", "The module's provider (e.g. `aws`).").name_segment(),
        ]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_registry_providers",
            M::List,
            "private-registry",
            "List registry providers",
            V::Get,
            "/organizations/{organization_name}/registry-providers",
            "List the providers of an organization's private registry (name, namespace, registry_name).",
        )
        .params(vec![
            org(),
            search_query(),
            P::query("filter_registry_name", "filter[registry_name]", K::String, "Only private or only public providers.").one_of(REGISTRIES),
        ]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_registry_provider_by_id",
            M::Get,
            "private-registry",
            "Show a registry provider",
            V::Get,
            "/organizations/{organization_name}/registry-providers/{registry_name}/{namespace}/{provider_name}",
            "Show a registry provider.",
        )
        .params(vec![org(), registry_name(), namespace(), P::path("provider_name", "Provider name (e.g. `aws`).").name_segment()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_registry_provider_versions",
            M::List,
            "private-registry",
            "List a private provider's versions",
            V::Get,
            "/organizations/{organization_name}/registry-providers/private/{namespace}/{provider_name}/versions",
            "List the versions of a private registry provider (version, protocols, shasums_uploaded, permissions).",
        )
        .params(vec![org(), namespace(), P::path("provider_name", "Provider name (e.g. `aws`).").name_segment()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_no_code_modules",
            M::List,
            "private-registry",
            "List no-code modules",
            V::Get,
            "/organizations/{organization_name}/no-code-modules",
            "List the organization's no-code modules (registry modules enabled for no-code provisioning, with their version_pin).",
        )
        .params(vec![org()]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_no_code_module_by_id",
            M::Get,
            "private-registry",
            "Show a no-code module",
            V::Get,
            "/no-code-modules/{no_code_module_id}",
            "Show a no-code module: enabled, version_pin, registry_module_id, and (include variable_options) the allowed values of its variables.",
        )
        .params(vec![no_code_module_id()])
        .includes(crate::catalog::includes::NO_CODE_MODULE),
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_no_code_workspace",
            M::Create,
            "private-registry",
            "Create a workspace from a no-code module",
            V::Post,
            "/no-code-modules/{no_code_module_id}/workspaces",
            "Create a workspace that provisions a no-code module, with values for its variables; HCP Terraform queues its first run.",
        )
        .params(vec![
            no_code_module_id(),
            P::attr("name", "name", K::String, "Workspace name (letters, numbers, `-` and `_`).").required(),
            P::attr("description", "description", K::String, "Description of the workspace."),
            P::attr("auto_apply", "auto-apply", K::Boolean, "Apply successful plans automatically."),
            P::rel("project_id", "project", "projects", "Project (`prj-...`) for the workspace; default the organization's default project."),
            P {
                kind: K::KeyValueList,
                ..P::rel(
                    "variables",
                    "vars",
                    "vars",
                    "Terraform variables of the module: [{key, value}], values as plain strings (get_single_hashicorp_terraform_cloud_no_code_module_by_id lists allowed options).",
                )
            },
        ])
        .body(Body::Resource("workspaces")),
    ]
}
