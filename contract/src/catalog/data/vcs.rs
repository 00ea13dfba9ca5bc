//! Connecting workspaces to code: the VCS connections of an organization
//! (OAuth clients and their OAuth tokens), the GitHub App installations the
//! token's user can use, and the SSH key a workspace uses to fetch private
//! modules. Read-only for VCS connections (creating one takes a provider's
//! secret); secrets are write-only and never returned (see
//! the gateway's `jsonapi::SECRET_ATTRIBUTES`).

use crate::catalog::{Body, Kind as K, Method as M, Param as P, ToolSpec, Verb as V};

fn oc_id() -> P {
    P::path("oauth_client_id", "OAuth client id (`oc-...`). Find it with list_all_hashicorp_terraform_cloud_oauth_clients.")
}
fn ws_id() -> P {
    P::path("workspace_id", "Workspace id (`ws-...`). Find it with list_all_hashicorp_terraform_cloud_workspaces.")
}

/// Detaching is documented as setting the key id to null.
const DETACH_SSH_KEY: &str = r#"{"data": {"type": "workspaces", "attributes": {"id": null}}}"#;

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_oauth_clients",
            M::List,
            "vcs",
            "List VCS connections (OAuth clients)",
            V::Get,
            "/organizations/{organization_name}/oauth-clients",
            "List an organization's VCS provider connections (OAuth clients: service_provider, http_url, oauth_token_ids). A workspace's vcs_repo needs one of their OAuth tokens.",
        )
        .params(vec![P::path("organization_name", "Name of the HCP Terraform organization (e.g. `acme-corp`).")]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_oauth_client_by_id",
            M::Get,
            "vcs",
            "Show a VCS connection (OAuth client)",
            V::Get,
            "/oauth-clients/{oauth_client_id}",
            "Show one VCS provider connection (never its secrets).",
        )
        .params(vec![oc_id()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_oauth_tokens",
            M::List,
            "vcs",
            "List OAuth tokens of a VCS connection",
            V::Get,
            "/oauth-clients/{oauth_client_id}/oauth-tokens",
            "List the OAuth tokens of a VCS connection: their id (`ot-...`) is the oauth_token_id of a workspace's vcs_repo (the token itself is never returned).",
        )
        .params(vec![oc_id()]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_oauth_token_by_id",
            M::Get,
            "vcs",
            "Show an OAuth token",
            V::Get,
            "/oauth-tokens/{oauth_token_id}",
            "Show an OAuth token's metadata (service provider user, has_ssh_key; never the token or key).",
        )
        .params(vec![P::path("oauth_token_id", "OAuth token id (`ot-...`).")]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_github_app_installations",
            M::List,
            "vcs",
            "List GitHub App installations",
            V::Get,
            "/github-app/installations",
            "List the HCP Terraform GitHub App installations this token's user can use: their id (`ghain-...`) is the github_app_installation_id of a workspace's vcs_repo.",
        ),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_github_installation_by_id",
            M::Get,
            "vcs",
            "Show a GitHub App installation",
            V::Get,
            "/github-app/installation/{github_app_installation_id}",
            "Show one GitHub App installation (GitHub account name, installation type).",
        )
        .params(vec![P::path("github_app_installation_id", "GitHub App installation id (`ghain-...`).")]),
        // ---- SSH keys of workspaces
        ToolSpec::new(
            "hashicorp_terraform_cloud_ssh_keys_attach_to_workspace",
            M::Custom,
            "ssh-keys",
            "Attach an SSH key to a workspace",
            V::Patch,
            "/workspaces/{workspace_id}/relationships/ssh-key",
            "Make a workspace use an SSH key of its organization to fetch Terraform modules from private Git repositories (replaces any key it had).",
        )
        .params(vec![
            ws_id(),
            P::attr("ssh_key_id", "id", K::String, "SSH key (`sshkey-...`) from list_all_hashicorp_terraform_cloud_ssh_keys.").required(),
        ])
        .body(Body::Resource("workspaces"))
        .idempotent(),
        ToolSpec::new(
            "hashicorp_terraform_cloud_ssh_keys_detach_from_workspace",
            M::Custom,
            "ssh-keys",
            "Detach the SSH key from a workspace",
            V::Patch,
            "/workspaces/{workspace_id}/relationships/ssh-key",
            "Stop a workspace from using its SSH key (runs that fetch private modules over SSH then fail).",
        )
        .params(vec![ws_id()])
        .body(Body::Fixed(DETACH_SSH_KEY))
        .destructive(),
    ]
}
