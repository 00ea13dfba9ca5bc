"""Organization areas end to end through a real MCP client against the
simulator: key-value tag bindings and the `tagged` workspace filter, team
members, organization memberships, team access to projects, VCS
connections (OAuth clients and tokens, GitHub App installations) and
workspace SSH keys. Adversarial: a server restricted to acme-corp cannot
reach globex through any id (path, body or inside `vcs_repo`), secrets never
come back, and `tagged` values cannot add query parameters."""

from __future__ import annotations

import json

import mcpclient as mcp
from conftest import MINTED_TOKENS

WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")

ACME_PROJECT = "prj-AcmeDefault0001"
TEAM_ACME_OWNERS = "team-AcmeOwners000001"
TEAM_ACME_PLATFORM = "team-AcmePlatform00001"
TEAM_GLOBEX_OWNERS = "team-GlobexOwners00001"
USER_ALICE = "user-Alice000000000001"
OU_ALICE = "ou-AcmeAlice000000001"
OU_GINA = "ou-GlobexGina00000001"
OC_ACME, OT_ACME = "oc-AcmeGithub00000001", "ot-AcmeGithub00000001"
OC_GLOBEX, OT_GLOBEX = "oc-GlobexGithub000001", "ot-GlobexGithub000001"
GHAIN_OCTO = "ghain-Octo00000000001"
SSHKEY_ACME, SSHKEY_GLOBEX = "sshkey-AcmeDeploy00001", "sshkey-GlobexDeploy001"
WS_GLOBEX_APP = "ws-Gx2aN6dRk4Uw8JmC"
# Seeded write-only secrets of the simulator (e2e/simulator/src/kinds/vcs.rs).
SECRETS = ("ghp_simOAuthTokenString4f1d", "sim-oauth-client-secret-9b2e", "sim-ssh-private-key-7c3a", "BEGIN RSA PRIVATE KEY")


def serve(stack, namespace, name, **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def serve_acme_only(stack, namespace, name="acme-only") -> str:
    return serve(stack, namespace, name, tfc={"address": stack.sim["api"],
                                              "tokenSecretRef": {"name": "tfc-api-token", "key": "token"},
                                              "organizations": ["acme-corp"]})


class Calls:
    """Calls tools and keeps every answer's text, to look for secrets."""

    def __init__(self, url: str):
        self.url = url
        self.seen: list[str] = []

    def __call__(self, tool: str, args: dict | None = None, ok: bool = True):
        result = mcp.call(self.url, tool, args or {})
        self.seen.append(result.text + json.dumps(result.data or {}))
        if ok:
            assert result.ok, (tool, args, result)
        return result

    def assert_no_secret(self):
        everything = "\n".join(self.seen)
        for secret in SECRETS:
            assert secret not in everything, f"{secret!r} came back in an answer"


def kv(result) -> list[str]:
    return sorted(f"{b['key']}:{b['value']}" for b in result.data["results"])


def test_tag_bindings_round_trip_and_tagged_filter(stack, namespace):
    call = Calls(serve(stack, namespace, "tags"))
    ws = call("create_a_hashicorp_terraform_cloud_workspace",
              {"organization_name": "acme-corp", "name": "org-areas-tagged",
               "tag_bindings": [{"key": "env", "value": "e2e"}]}).data
    try:
        wid = ws["id"]
        added = call("hashicorp_terraform_cloud_tag_bindings_add_or_update",
                     {"workspace_id": wid, "tag_bindings": [{"key": "tier", "value": "gold"}, {"key": "env", "value": "e2e2"}]})
        assert added.ok
        own = call("list_all_hashicorp_terraform_cloud_tag_bindings", {"workspace_id": wid})
        assert kv(own) == ["env:e2e2", "tier:gold"], own.data
        effective = call("list_all_hashicorp_terraform_cloud_effective_tag_bindings", {"workspace_id": wid})
        assert kv(effective) == ["dept:r+d", "env:e2e2", "tier:gold"], effective.data
        inherited = next(b for b in effective.data["results"] if b["key"] == "dept")
        assert inherited["inherited_from"] == f"/api/v2/projects/{ACME_PROJECT}"
        project = call("list_all_hashicorp_terraform_cloud_tag_bindings", {"project_id": ACME_PROJECT})
        assert "dept:r+d" in kv(project)

        # The flat `tagged` argument becomes filter[tagged][i][key|value].
        before = len(stack.sim_requests())
        listed = call("list_all_hashicorp_terraform_cloud_workspaces",
                      {"organization_name": "acme-corp", "tagged": ["env:e2e2", "tier", "dept:r+d"]})
        assert [w["name"] for w in listed.data["results"]] == ["org-areas-tagged"], listed.data
        queries = [r.get("query", "") for r in stack.sim_requests()[before:] if r["path"].endswith("/workspaces")]
        assert any("filter%5Btagged%5D%5B0%5D%5Bkey%5D=env" in q or "filter[tagged][0][key]=env" in q for q in queries), queries
        assert call("list_all_hashicorp_terraform_cloud_workspaces",
                    {"organization_name": "acme-corp", "tagged": ["env:nope"]}).data["results"] == []
        # A cursor keeps the filter.
        page = call("list_all_hashicorp_terraform_cloud_workspaces",
                    {"organization_name": "acme-corp", "tagged": ["dept:r+d"], "page_size": 5})
        assert page.data["next_cursor"]
        nxt = call("list_all_hashicorp_terraform_cloud_workspaces",
                   {"organization_name": "acme-corp", "next_cursor": page.data["next_cursor"]})
        assert not {w["id"] for w in nxt.data["results"]} & {w["id"] for w in page.data["results"]}

        # Values that would add or end query parameters are refused before any call.
        before = len(stack.sim_requests())
        for bad in ["env:e2e&search[name]=x", "env=prod", "env[1][key]", "env:a\nb", "env:%26x", ":x"]:
            refused = call("list_all_hashicorp_terraform_cloud_workspaces",
                           {"organization_name": "acme-corp", "tagged": [bad]}, ok=False)
            assert not refused.ok and "`tagged`" in refused.text, refused
        assert not [r for r in stack.sim_requests()[before:] if r["path"].endswith("/workspaces")]

        # The update's tag_bindings replaces the workspace's own bindings.
        call("update_a_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": wid, "tag_bindings": []})
        assert kv(call("list_all_hashicorp_terraform_cloud_tag_bindings", {"workspace_id": wid})) == []
        assert kv(call("list_all_hashicorp_terraform_cloud_effective_tag_bindings", {"workspace_id": wid})) == ["dept:r+d"]
    finally:
        call("delete_a_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": ws["id"]})


def test_team_members_memberships_and_project_access(stack, namespace):
    call = Calls(serve(stack, namespace, "people"))
    # Invite by email into a team; find the invitation.
    invited = call("create_a_hashicorp_terraform_cloud_organization_membership",
                   {"organization_name": "acme-corp", "email": "e2e-invite@acme-corp.example", "team_ids": [TEAM_ACME_PLATFORM]})
    ou = invited.data["id"]
    assert ou.startswith("ou-") and invited.data["status"] == "invited" and invited.data["team_ids"] == [TEAM_ACME_PLATFORM]
    listed = call("list_all_hashicorp_terraform_cloud_organization_memberships",
                  {"organization_name": "acme-corp", "filter_status": "invited"})
    assert ou in [m["id"] for m in listed.data["results"]]
    alice = call("list_all_hashicorp_terraform_cloud_organization_memberships",
                 {"organization_name": "acme-corp", "search_query": "alice"})
    assert [m["id"] for m in alice.data["results"]] == [OU_ALICE] and alice.data["results"][0]["user_id"] == USER_ALICE
    assert call("get_single_hashicorp_terraform_cloud_org_membership_by_id", {"organization_membership_id": ou}).data["id"] == ou

    # Team members by username and by membership id.
    added = call("hashicorp_terraform_cloud_teams_add_users", {"team_id": TEAM_ACME_OWNERS, "usernames": ["alice"]})
    assert added.data["accepted"] is True
    team = call("get_single_hashicorp_terraform_cloud_team_by_id", {"team_id": TEAM_ACME_OWNERS}).data
    assert USER_ALICE in team["user_ids"], team
    removed = call("hashicorp_terraform_cloud_teams_remove_users", {"team_id": TEAM_ACME_OWNERS, "user_ids": [USER_ALICE]})
    assert removed.data["usernames"] == ["alice"], removed.data
    team = call("get_single_hashicorp_terraform_cloud_team_by_id", {"team_id": TEAM_ACME_OWNERS}).data
    assert USER_ALICE not in team["user_ids"], team
    unknown = call("hashicorp_terraform_cloud_teams_add_users", {"team_id": TEAM_ACME_OWNERS, "usernames": ["nobody-here"]}, ok=False)
    assert "404" in unknown.text
    call("hashicorp_terraform_cloud_teams_add_memberships", {"team_id": TEAM_ACME_OWNERS, "organization_membership_ids": [ou]})
    got = call("get_single_hashicorp_terraform_cloud_org_membership_by_id", {"organization_membership_id": ou}).data
    assert sorted(got["team_ids"]) == sorted([TEAM_ACME_PLATFORM, TEAM_ACME_OWNERS])
    call("hashicorp_terraform_cloud_teams_remove_memberships", {"team_id": TEAM_ACME_OWNERS, "organization_membership_ids": [ou]})

    # Team access to a project: create, read, update custom permissions, list, delete.
    created = call("create_a_hashicorp_terraform_cloud_project_team_access",
                   {"project_id": ACME_PROJECT, "team_id": TEAM_ACME_OWNERS, "access": "read"}).data
    tprj = created["id"]
    assert tprj.startswith("tprj-") and created["project_id"] == ACME_PROJECT and created["team_id"] == TEAM_ACME_OWNERS
    updated = call("update_a_hashicorp_terraform_cloud_project_team_access_by_id",
                   {"project_team_access_id": tprj, "access": "custom",
                    "project_access": {"settings": "update", "teams": "read", "variable_sets": "write"},
                    "workspace_access": {"runs": "apply", "state_versions": "read-outputs", "locking": True}}).data
    assert updated["access"] == "custom"
    assert updated["project_access"]["variable_sets"] == "write" and updated["workspace_access"]["state_versions"] == "read-outputs"
    listed = call("list_all_hashicorp_terraform_cloud_project_team_accesses", {"project_id": ACME_PROJECT})
    assert tprj in [a["id"] for a in listed.data["results"]]
    assert call("get_single_hashicorp_terraform_cloud_project_team_access_by_id", {"project_team_access_id": tprj}).data["access"] == "custom"
    assert call("delete_a_hashicorp_terraform_cloud_project_team_access_by_id", {"project_team_access_id": tprj}).data["deleted"] is True

    # Removing the membership (destructive) ends the invitation.
    assert call("delete_a_hashicorp_terraform_cloud_organization_membership_by_id", {"organization_membership_id": ou}).data["deleted"]
    gone = call("get_single_hashicorp_terraform_cloud_org_membership_by_id", {"organization_membership_id": ou}, ok=False)
    assert "404" in gone.text
    call.assert_no_secret()


def test_vcs_connections_and_workspace_ssh_keys(stack, namespace):
    call = Calls(serve(stack, namespace, "vcs"))
    clients = call("list_all_hashicorp_terraform_cloud_oauth_clients", {"organization_name": "acme-corp"})
    client = next(c for c in clients.data["results"] if c["id"] == OC_ACME)
    assert client["service_provider"] == "github" and client["oauth_token_ids"] == [OT_ACME]
    assert "oauth_token_string" not in client and "secret" not in client
    call("get_single_hashicorp_terraform_cloud_oauth_client_by_id", {"oauth_client_id": OC_ACME})
    tokens = call("list_all_hashicorp_terraform_cloud_oauth_tokens", {"oauth_client_id": OC_ACME})
    assert [t["id"] for t in tokens.data["results"]] == [OT_ACME]
    token = call("get_single_hashicorp_terraform_cloud_oauth_token_by_id", {"oauth_token_id": OT_ACME}).data
    assert token["has_ssh_key"] is True and token["oauth_client_id"] == OC_ACME and "ssh_key" not in token
    installs = call("list_all_hashicorp_terraform_cloud_github_app_installations")
    assert [i["id"] for i in installs.data["results"]] == [GHAIN_OCTO]
    assert call("get_single_hashicorp_terraform_cloud_github_installation_by_id",
                {"github_app_installation_id": GHAIN_OCTO}).data["installation_id"] == 54810170

    # Connect a workspace through the OAuth token, give it the SSH key, take it back.
    ws = call("create_a_hashicorp_terraform_cloud_workspace",
              {"organization_name": "acme-corp", "name": "org-areas-vcs",
               "vcs_repo": {"identifier": "acme/infra", "oauth_token_id": OT_ACME, "branch": "main"}}).data
    try:
        keys = call("list_all_hashicorp_terraform_cloud_ssh_keys", {"organization_name": "acme-corp"})
        assert SSHKEY_ACME in [k["id"] for k in keys.data["results"]]
        assert all("value" not in k for k in keys.data["results"])
        attached = call("hashicorp_terraform_cloud_ssh_keys_attach_to_workspace", {"workspace_id": ws["id"], "ssh_key_id": SSHKEY_ACME})
        assert attached.data["ssh_key_id"] == SSHKEY_ACME
        assert call("get_single_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": ws["id"]}).data["ssh_key_id"] == SSHKEY_ACME
        detached = call("hashicorp_terraform_cloud_ssh_keys_detach_from_workspace", {"workspace_id": ws["id"]})
        assert detached.data["ssh_key_id"] is None
    finally:
        call("delete_a_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": ws["id"]})
    call.assert_no_secret()

    # Annotations a client can rely on.
    tools = {t.name: t for t in mcp.list_tools(call.url)}
    assert tools["list_all_hashicorp_terraform_cloud_oauth_tokens"].annotations.readOnlyHint is True
    assert tools["hashicorp_terraform_cloud_ssh_keys_detach_from_workspace"].annotations.destructiveHint is True
    assert tools["delete_a_hashicorp_terraform_cloud_organization_membership_by_id"].annotations.destructiveHint is True
    assert tools["hashicorp_terraform_cloud_teams_remove_users"].annotations.destructiveHint is True
    assert tools["hashicorp_terraform_cloud_teams_add_users"].annotations.readOnlyHint is False
    # The workspace's vcs_repo points the model at the tools that find the ids.
    vcs_repo = tools["create_a_hashicorp_terraform_cloud_workspace"].inputSchema["properties"]["vcs_repo"]["description"]
    assert "list_all_hashicorp_terraform_cloud_oauth_tokens" in vcs_repo and "github_app_installations" in vcs_repo


def test_read_only_vcs_server_gets_only_the_read_tools(stack, namespace):
    url = serve(stack, namespace, "vcs-read", methods=["read"], tags=["vcs", "organization-memberships"])
    names = mcp.tool_names(url)
    assert names == {
        "list_all_hashicorp_terraform_cloud_oauth_clients", "get_single_hashicorp_terraform_cloud_oauth_client_by_id",
        "list_all_hashicorp_terraform_cloud_oauth_tokens", "get_single_hashicorp_terraform_cloud_oauth_token_by_id",
        "list_all_hashicorp_terraform_cloud_github_app_installations",
        "get_single_hashicorp_terraform_cloud_github_installation_by_id",
        "list_all_hashicorp_terraform_cloud_organization_memberships",
        "get_single_hashicorp_terraform_cloud_org_membership_by_id",
    }, names


def test_acme_only_server_cannot_reach_globex(stack, namespace):
    call = Calls(serve_acme_only(stack, namespace))
    acme_ws = call("list_all_hashicorp_terraform_cloud_workspaces",
                   {"organization_name": "acme-corp", "search_name": "feature-flags"}).data["results"][0]["id"]
    before = len(stack.sim_requests())
    attempts = [
        ("list_all_hashicorp_terraform_cloud_organization_memberships", {"organization_name": "globex"}),
        ("get_single_hashicorp_terraform_cloud_org_membership_by_id", {"organization_membership_id": OU_GINA}),
        ("delete_a_hashicorp_terraform_cloud_organization_membership_by_id", {"organization_membership_id": OU_GINA}),
        ("get_single_hashicorp_terraform_cloud_oauth_token_by_id", {"oauth_token_id": OT_GLOBEX}),
        ("get_single_hashicorp_terraform_cloud_oauth_client_by_id", {"oauth_client_id": OC_GLOBEX}),
        ("list_all_hashicorp_terraform_cloud_oauth_tokens", {"oauth_client_id": OC_GLOBEX}),
        ("list_all_hashicorp_terraform_cloud_oauth_clients", {"organization_name": "globex"}),
        ("hashicorp_terraform_cloud_teams_add_users", {"team_id": TEAM_GLOBEX_OWNERS, "usernames": ["alice"]}),
        ("hashicorp_terraform_cloud_teams_add_memberships", {"team_id": TEAM_ACME_OWNERS, "organization_membership_ids": [OU_GINA]}),
        ("hashicorp_terraform_cloud_ssh_keys_attach_to_workspace", {"workspace_id": acme_ws, "ssh_key_id": SSHKEY_GLOBEX}),
        ("hashicorp_terraform_cloud_ssh_keys_detach_from_workspace", {"workspace_id": WS_GLOBEX_APP}),
        ("hashicorp_terraform_cloud_tag_bindings_add_or_update",
         {"workspace_id": WS_GLOBEX_APP, "tag_bindings": [{"key": "pwned", "value": "yes"}]}),
        ("list_all_hashicorp_terraform_cloud_tag_bindings", {"workspace_id": WS_GLOBEX_APP}),
        ("list_all_hashicorp_terraform_cloud_workspaces", {"organization_name": "globex", "tagged": ["env"]}),
        ("create_a_hashicorp_terraform_cloud_project_team_access",
         {"project_id": ACME_PROJECT, "team_id": TEAM_GLOBEX_OWNERS, "access": "admin"}),
        ("create_a_hashicorp_terraform_cloud_organization_membership",
         {"organization_name": "acme-corp", "email": "mallory@evil.example", "team_ids": [TEAM_GLOBEX_OWNERS]}),
        # An acme workspace connected through globex's VCS credentials.
        ("create_a_hashicorp_terraform_cloud_workspace",
         {"organization_name": "acme-corp", "name": "stolen-vcs", "vcs_repo": {"identifier": "globex/app", "oauth_token_id": OT_GLOBEX}}),
        ("update_a_hashicorp_terraform_cloud_workspace_by_id",
         {"workspace_id": acme_ws, "vcs_repo": {"identifier": "globex/app", "oauth-token-id": OT_GLOBEX}}),
    ]
    for tool, args in attempts:
        refused = call(tool, args, ok=False)
        assert not refused.ok, (tool, refused)
        assert "HTTP 404 Not Found" in refused.text, (tool, refused.text)
    writes = [r for r in stack.sim_requests()[before:] if r["method"] in WRITE_METHODS]
    assert not writes, writes
    # Nothing was written in globex: the team and the workspace are as seeded.
    status, team = stack.sim_call("GET", f"/api/v2/teams/{TEAM_GLOBEX_OWNERS}")
    assert status == 200 and [u["id"] for u in team["data"]["relationships"]["users"]["data"]] == ["user-Gina0000000000001"]
    status, bindings = stack.sim_call("GET", f"/api/v2/workspaces/{WS_GLOBEX_APP}/tag-bindings")
    assert status == 200 and bindings["data"] == []

    # Its own organization's VCS connection works, and shows no secret.
    token = call("get_single_hashicorp_terraform_cloud_oauth_token_by_id", {"oauth_token_id": OT_ACME})
    assert token.data["id"] == OT_ACME
    call.assert_no_secret()
