//! The public Terraform Registry (providers, their documentation, modules,
//! policy libraries): tag `registry`, read-only, at the gateway's
//! `--registry-address`, never with the route's HCP Terraform token.
//!
//! Paths are below the registry's address (`/v1/...`, `/v2/...`); every
//! namespace, name, version and document id is checked for its shape before
//! any request, and path segments are percent-encoded
//! (`execute::registry`). Names carry `hashicorp_terraform_registry` (not
//! `..._cloud_...`): they are not HCP Terraform's private registry.

use super::super::{Handler, Kind as K, Method as M, Param as P, REGISTRY_TAG, RegistryOp as R, ToolSpec, Verb as V};
use crate::registry::{DOC_ID_PATTERN, NAME_PATTERN, VERSION_PATTERN};

fn namespace(what: &'static str) -> P {
    P::path("namespace", what).pattern(NAME_PATTERN)
}
/// A registry name in the path.
fn name(param: &'static str, what: &'static str) -> P {
    P::path(param, what).pattern(NAME_PATTERN)
}
/// A registry name that is not a path placeholder (checked and encoded by the tool).
fn local_name(param: &'static str, what: &'static str) -> P {
    P::local(param, K::String, what).pattern(NAME_PATTERN)
}
/// Not a path placeholder: the tool adds it to the path itself, checked.
fn version(what: &'static str) -> P {
    P::local("version", K::String, what).pattern(VERSION_PATTERN)
}
fn query(description: &'static str) -> P {
    P::local("query", K::String, description)
}

const DOC_CATEGORIES: &[&str] =
    &["resources", "data-sources", "ephemeral-resources", "functions", "guides", "overview", "actions", "list-resources"];

fn tool(name: &'static str, method: M, title: &'static str, path: &'static str, op: R, description: &'static str) -> ToolSpec {
    ToolSpec::new(name, method, REGISTRY_TAG, title, V::Get, path, description).handler(Handler::Registry(op))
}

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        tool(
            "list_all_hashicorp_terraform_registry_providers",
            M::List,
            "Search registry providers",
            "/v1/providers",
            R::SearchProviders,
            "Search the public Terraform Registry's providers by name or keyword: namespace, name, latest version, tier, downloads.",
        )
        .params(vec![
            query("Search text, e.g. `aws` or `kubernetes`.").required(),
            local_name("namespace", "Only providers of this publisher (e.g. `hashicorp`)."),
        ]),
        tool(
            "get_single_hashicorp_terraform_registry_provider_by_name",
            M::Get,
            "Get a registry provider",
            "/v1/providers/{namespace}/{name}",
            R::ProviderDetails,
            "A public registry provider (latest version unless `version`): description, tier, source, recent versions, document counts by category.",
        )
        .params(vec![
            namespace("Provider publisher, e.g. `hashicorp` (letters, digits, `-`, `_`)."),
            name("name", "Provider name, e.g. `aws` (letters, digits, `-`, `_`)."),
            version("Version `x.y.z`; omit for the latest."),
        ]),
        tool(
            "list_all_hashicorp_terraform_registry_provider_docs",
            M::List,
            "List registry provider docs",
            "/v2/provider-docs",
            R::ProviderDocs,
            "Find a provider's documentation pages by category and slug (e.g. resources / `instance` for aws_instance); returns provider_doc_id values.",
        )
        .params(vec![
            local_name("namespace", "Provider publisher, e.g. `hashicorp`.").required(),
            local_name("name", "Provider name, e.g. `aws`.").required(),
            version("Provider version `x.y.z`; omit for the latest."),
            P::local("category", K::String, "Document category (default `resources`).").one_of(DOC_CATEGORIES),
            P::local(
                "slug",
                K::String,
                "Resource or data source name without the provider prefix (`instance` for aws_instance; the prefixed form is accepted).",
            )
            .pattern("^[A-Za-z0-9_-]{1,128}$"),
        ]),
        tool(
            "get_single_hashicorp_terraform_registry_provider_doc_by_id",
            M::Get,
            "Get a registry provider doc",
            "/v2/provider-docs/{provider_doc_id}",
            R::ProviderDoc,
            "One provider documentation page (markdown: arguments, attributes, examples) by the provider_doc_id the docs list returned.",
        )
        .params(vec![
            P::path("provider_doc_id", "Document id from list_all_hashicorp_terraform_registry_provider_docs (digits, e.g. `8814952`).")
                .pattern(DOC_ID_PATTERN),
        ]),
        tool(
            "list_all_hashicorp_terraform_registry_modules",
            M::List,
            "Search registry modules",
            "/v1/modules/search",
            R::SearchModules,
            "Search the public Terraform Registry's modules: id, namespace/name/provider, latest version, downloads, verified.",
        )
        .params(vec![
            query("Search text, e.g. `vpc`.").required(),
            local_name("provider", "Only modules for this provider (e.g. `aws`)."),
            local_name("namespace", "Only modules of this publisher (e.g. `terraform-aws-modules`)."),
            P::local("verified", K::Boolean, "Only verified (partner) modules."),
        ]),
        tool(
            "get_single_hashicorp_terraform_registry_module_by_name",
            M::Get,
            "Get a registry module",
            "/v1/modules/{namespace}/{name}/{provider}",
            R::ModuleDetails,
            "A public registry module (latest unless `version`): inputs (type, default, required), outputs, providers, resources, submodules.",
        )
        .params(vec![
            namespace("Module publisher, e.g. `terraform-aws-modules`."),
            name("name", "Module name, e.g. `vpc`."),
            name("provider", "Module target provider, e.g. `aws`."),
            version("Version `x.y.z`; omit for the latest."),
        ]),
        tool(
            "list_all_hashicorp_terraform_registry_module_versions",
            M::List,
            "List registry module versions",
            "/v1/modules/{namespace}/{name}/{provider}/versions",
            R::ModuleVersions,
            "The versions of a public registry module, newest first (latest_version says which to pin).",
        )
        .params(vec![
            namespace("Module publisher, e.g. `terraform-aws-modules`."),
            name("name", "Module name, e.g. `vpc`."),
            name("provider", "Module target provider, e.g. `aws`."),
        ]),
        tool(
            "list_all_hashicorp_terraform_registry_policy_libraries",
            M::List,
            "List registry policy libraries",
            "/v2/policies",
            R::SearchPolicies,
            "The public registry's policy libraries (Sentinel/OPA policy sets, e.g. CIS benchmarks), optionally matching a query.",
        )
        .params(vec![query("Words matched against the library's name and title, e.g. `cis aws`.")]),
        tool(
            "get_single_hashicorp_terraform_registry_policy_library_by_name",
            M::Get,
            "Get a registry policy library",
            "/v2/policies/{namespace}/{name}",
            R::PolicyDetails,
            "A public registry policy library (latest unless `version`): its policies, policy modules and readme (how to use it).",
        )
        .params(vec![
            namespace("Library publisher, e.g. `hashicorp`."),
            name("name", "Library name, e.g. `CIS-Policy-Set-for-AWS-Terraform`."),
            version("Version `x.y.z`; omit for the latest."),
        ]),
    ]
}
