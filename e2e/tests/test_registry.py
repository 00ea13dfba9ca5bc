"""The public Terraform Registry through the real gateway and operator, against
the simulator's registry origin (issue 8): provider search, details and
documents by resource, module search, details and versions, policy libraries.

The registry tools never carry the HCP Terraform token (the simulator's
registry origin answers 400 to any Authorization header, and every request it
saw is checked); a model's hostile namespace (`../../v2/...`, `aws?x=`, a full
URL) never changes the request; a document of megabytes is bounded; a server
whose tags exclude `registry`, or that has all tags on a Terraform Enterprise
address (this stack's simulator), does not get them."""

from __future__ import annotations

import json
import time

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import SIM_TOKEN

SEARCH_PROVIDERS = "list_all_hashicorp_terraform_registry_providers"
PROVIDER = "get_single_hashicorp_terraform_registry_provider_by_name"
PROVIDER_DOCS = "list_all_hashicorp_terraform_registry_provider_docs"
PROVIDER_DOC = "get_single_hashicorp_terraform_registry_provider_doc_by_id"
SEARCH_MODULES = "list_all_hashicorp_terraform_registry_modules"
MODULE = "get_single_hashicorp_terraform_registry_module_by_name"
MODULE_VERSIONS = "list_all_hashicorp_terraform_registry_module_versions"
POLICY_LIBRARIES = "list_all_hashicorp_terraform_registry_policy_libraries"
POLICY_LIBRARY = "get_single_hashicorp_terraform_registry_policy_library_by_name"
REGISTRY_TOOLS = {SEARCH_PROVIDERS, PROVIDER, PROVIDER_DOCS, PROVIDER_DOC, SEARCH_MODULES, MODULE, MODULE_VERSIONS,
                  POLICY_LIBRARIES, POLICY_LIBRARY}


def serve(stack, namespace, name="srv", **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def registry_requests(stack) -> list[dict]:
    return [r for r in stack.sim_requests() if r.get("origin") == "registry"]


def call(url, name, arguments=None):
    time.sleep(0.1)  # under the gateway's per-server request rate
    return mcp.call(url, name, arguments)


def test_a_model_finds_a_provider_its_resource_doc_a_module_and_a_policy_library(stack, namespace):
    url = serve(stack, namespace, methods=["read"], tags=["registry", "workspaces"])
    listed = mcp.tool_names(url)
    assert REGISTRY_TOOLS <= listed
    # The operator counts the tools by the gateway's own rule.
    assert stack.get("tfcmcpserver", "srv", namespace)["status"]["toolCount"] == len(listed)
    before = len(registry_requests(stack))

    found = call(url, SEARCH_PROVIDERS, {"query": "aws"})
    assert found.ok, found
    assert found.data["results"][0]["full_name"] == "hashicorp/aws", found.data
    assert found.data["results"][0]["latest_version"] == "5.80.0"

    provider = call(url, PROVIDER, {"namespace": "hashicorp", "name": "aws"})
    assert provider.ok, provider
    assert provider.data["latest_version"] == "5.80.0" and provider.data["is_latest"] is True, provider.data
    assert provider.data["recent_versions"] == ["5.80.0", "5.79.0", "4.67.0"]
    assert provider.data["docs_by_category"]["resources"] == 3, provider.data
    assert "docs" not in provider.data and "logo_url" not in provider.data, "compact: no document list, no logo"

    docs = call(url, PROVIDER_DOCS, {"namespace": "hashicorp", "name": "aws", "slug": "aws_instance"})
    assert docs.ok, docs
    assert [d["title"] for d in docs.data["results"]] == ["aws_instance"], docs.data
    assert docs.data["provider"] == {"full_name": "hashicorp/aws", "version": "5.80.0"}
    doc = call(url, PROVIDER_DOC, {"provider_doc_id": docs.data["results"][0]["provider_doc_id"]})
    assert doc.ok, doc
    assert doc.data["content"].startswith("# Resource: aws_instance"), doc.data["content"][:200]
    assert doc.data["description"].startswith("Provides an EC2 instance resource"), doc.data
    assert doc.data["subcategory"] == "EC2 (Elastic Compute Cloud)"

    # An older version's documents, and a whole category paged with cursors.
    old = call(url, PROVIDER_DOCS, {"namespace": "hashicorp", "name": "aws", "version": "4.67.0", "category": "resources",
                                    "page_size": 2})
    assert old.ok and old.data["provider"]["version"] == "4.67.0", old
    assert len(old.data["results"]) == 2 and old.data["next_cursor"], old.data
    rest = call(url, PROVIDER_DOCS, {"namespace": "hashicorp", "name": "aws", "next_cursor": old.data["next_cursor"]})
    assert rest.ok and len(rest.data["results"]) == 1 and rest.data["provider"]["version"] == "4.67.0", rest.data
    titles = {d["title"] for d in old.data["results"] + rest.data["results"]}
    assert titles == {"aws_instance", "aws_s3_bucket", "aws_vpc"}, titles

    modules = call(url, SEARCH_MODULES, {"query": "vpc", "provider": "aws"})
    assert modules.ok and modules.data["results"][0]["id"] == "terraform-aws-modules/vpc/aws/5.17.0", modules
    module = call(url, MODULE, {"namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws"})
    assert module.ok, module
    assert module.data["required_inputs"] == ["vpc_owner_tag"], module.data
    assert {i["name"] for i in module.data["inputs"]} >= {"cidr", "azs", "vpc_owner_tag"}
    assert module.data["outputs"][0]["name"] == "vpc_id"
    assert 'source  = "terraform-aws-modules/vpc/aws"' in module.data["usage"], module.data["usage"]
    pinned = call(url, MODULE, {"namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws", "version": "5.16.0"})
    assert pinned.ok and pinned.data["version"] == "5.16.0" and pinned.data["is_latest"] is False, pinned
    versions = call(url, MODULE_VERSIONS, {"namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws"})
    assert versions.ok, versions
    assert [v["version"] for v in versions.data["results"]] == ["5.17.0", "5.16.0", "4.0.2"]
    assert versions.data["latest_version"] == "5.17.0"

    libraries = call(url, POLICY_LIBRARIES, {"query": "cis aws"})
    assert libraries.ok, libraries
    assert [l["full_name"] for l in libraries.data["results"]] == ["hashicorp/CIS-Policy-Set-for-AWS-Terraform"]
    assert libraries.data["results"][0]["latest_version"] == "1.0.1"
    library = call(url, POLICY_LIBRARY, {"namespace": "hashicorp", "name": "CIS-Policy-Set-for-AWS-Terraform"})
    assert library.ok, library
    assert library.data["version"] == "1.0.1" and library.data["policies_count"] == 2, library.data
    assert "s3-block-public-access" in {p["name"] for p in library.data["policies"]}

    # Every registry request was answered without credentials: the origin refuses them with 400.
    seen = registry_requests(stack)[before:]
    assert len(seen) >= 12, seen
    assert all(r["status"] in (200, 404) for r in seen), seen
    # And nothing of it went to the HCP Terraform API origin.
    assert not [r for r in stack.sim_requests() if r.get("origin") == "api" and "/v1/" in r["path"]]


def test_hostile_names_do_not_change_the_request(stack, namespace):
    url = serve(stack, namespace, methods=["read"], tags=["registry"])
    before = len(registry_requests(stack))
    for bad in ["../../v2/provider-docs/8814951", "hashicorp/aws?x=", "https://evil.example/registry", "%2e%2e", ".."]:
        for name, args in [
            (PROVIDER, {"namespace": bad, "name": "aws"}),
            (PROVIDER, {"namespace": "hashicorp", "name": bad}),
            (PROVIDER_DOCS, {"namespace": "hashicorp", "name": bad}),
            (MODULE, {"namespace": "terraform-aws-modules", "name": "vpc", "provider": bad}),
            (POLICY_LIBRARY, {"namespace": bad, "name": "CIS-Policy-Set-for-AWS-Terraform"}),
            (PROVIDER_DOC, {"provider_doc_id": bad}),
        ]:
            result = call(url, name, args)
            assert not result.ok, (name, bad, result)
            assert "invalid arguments" in result.text, result.text
            assert "evil.example" not in result.text, result.text
    result = call(url, PROVIDER, {"namespace": "hashicorp", "name": "aws", "version": "5.80.0/../../../v1/modules"})
    assert not result.ok and "version" in result.text, result
    assert registry_requests(stack)[before:] == [], "no hostile name reached the registry"

    # A query is only ever a query value.
    found = call(url, SEARCH_MODULES, {"query": "vpc&namespace=hashicorp"})
    assert found.ok and found.data["results"] == [], found
    last = registry_requests(stack)[-1]
    assert last["path"] == "/v1/modules/search" and last["query"].startswith("q=vpc%26namespace%3Dhashicorp&"), last


def test_documents_of_megabytes_are_bounded(stack, namespace):
    url = serve(stack, namespace, methods=["read"], tags=["registry"])
    docs = call(url, PROVIDER_DOCS, {"namespace": "sim", "name": "giant"})
    assert docs.ok, docs
    ids = {d["slug"]: d["provider_doc_id"] for d in docs.data["results"]}

    big = call(url, PROVIDER_DOC, {"provider_doc_id": ids["big"]})  # 2 MiB of markdown
    assert big.ok, big
    assert len(json.dumps(big.data).encode()) <= 64 * 1024 + 1024, len(json.dumps(big.data))
    assert big.data["truncated"] is True and big.data["truncation"]["shortened"]["path"] == "/content", big.data["truncation"]
    assert big.data["content"].startswith("# Resource: giant_big"), big.data["content"][:100]

    enormous = call(url, PROVIDER_DOC, {"provider_doc_id": ids["enormous"]})  # 6 MiB: not even read whole
    assert not enormous.ok and "larger than 4 MiB" in enormous.text, enormous


def test_servers_without_the_registry_tag_cannot_reach_it(stack, namespace):
    # All tags, on a Terraform Enterprise address (the simulator): not by default.
    everything = serve(stack, namespace, name="all-tags", methods=["read"])
    listed = mcp.tool_names(everything)
    assert not (REGISTRY_TOOLS & listed)
    assert listed, "the server has its other tools"
    assert stack.get("tfcmcpserver", "all-tags", namespace)["status"]["toolCount"] == len(listed)
    workspaces_only = serve(stack, namespace, name="ws-only", methods=["read"], tags=["workspaces"])
    assert not (REGISTRY_TOOLS & mcp.tool_names(workspaces_only))
    before = len(registry_requests(stack))
    for url in (everything, workspaces_only):
        error = mcp.call_error(url, SEARCH_PROVIDERS, {"query": "aws"})
        assert "Unknown tool" in str(error), error
    assert registry_requests(stack)[before:] == []

    # Discovery mode sees the same.
    discovery = serve(stack, namespace, name="disc", methods=["read"], tags=["workspaces"], toolExposure="Discovery")
    found = call(discovery, "search_tools", {"query": "registry provider docs"})
    assert found.ok and not [t for t in found.data.get("tools", []) if t.get("name") in REGISTRY_TOOLS], found.data


def test_the_token_never_reaches_the_registry_origin(stack, namespace):
    url = serve(stack, namespace, methods=["read"], tags=["registry", "workspaces"])
    assert call(url, SEARCH_PROVIDERS, {"query": "random"}).ok
    assert call(url, "list_all_hashicorp_terraform_cloud_workspaces", {"organization_name": "acme-corp"}).ok
    registry = registry_requests(stack)
    assert registry and all(r["status"] != 400 for r in registry), registry
    gateway_log = stack.logs().get("gateway.log", "")
    assert SIM_TOKEN not in gateway_log
