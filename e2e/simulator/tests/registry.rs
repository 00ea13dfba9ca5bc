//! The public Terraform Registry origin, driven in-process: the registry's
//! own answer shapes, its search and paging, and the refusal of credentials.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use tfc_sim::registry_seed::ENORMOUS_DOC_BYTES;
use tfc_sim::{Sim, SimConfig, registry_router};

async fn get(uri: &str, auth: bool) -> (StatusCode, Value, usize) {
    let sim = Sim::new(SimConfig::default());
    let mut req = Request::get(uri);
    if auth {
        req = req.header(header::AUTHORIZATION, "Bearer sim-token");
    }
    let resp = registry_router(sim.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024).await.unwrap();
    let rec = sim.requests();
    assert_eq!(rec.last().map(|r| r.origin), Some("registry"), "recorded");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), bytes.len())
}

#[tokio::test]
async fn providers_modules_and_policies_in_the_registry_shapes() {
    let (s, v, _) = get("/v1/providers?q=aws&limit=1", false).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["providers"][0]["id"], "hashicorp/aws/5.80.0");
    assert_eq!(v["meta"]["current_offset"], 0);

    let (_, v, _) = get("/v1/providers/hashicorp/aws", false).await;
    assert_eq!(v["version"], "5.80.0");
    assert_eq!(v["versions"].as_array().unwrap().len(), 3);
    assert!(v["docs"].as_array().unwrap().iter().any(|d| d["slug"] == "instance" && d["category"] == "resources"));

    let (_, v, _) = get("/v2/providers/hashicorp/aws?include=provider-versions", false).await;
    let ids: Vec<&str> = v["included"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"70800"));

    let (_, v, _) =
        get("/v2/provider-docs?filter%5Bprovider-version%5D=70800&filter%5Bcategory%5D=resources&filter%5Bslug%5D=instance", false).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let id = v["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, v, _) = get(&format!("/v2/provider-docs/{id}"), false).await;
    assert!(v["data"]["attributes"]["content"].as_str().unwrap().contains("# Resource: aws_instance"));

    let (_, v, _) = get("/v1/modules/search?q=vpc", false).await;
    assert_eq!(v["modules"][0]["id"], "terraform-aws-modules/vpc/aws/5.17.0");
    let (_, v, _) = get("/v1/modules/terraform-aws-modules/vpc/aws/versions", false).await;
    assert_eq!(v["modules"][0]["versions"].as_array().unwrap().len(), 3);
    let (_, v, _) = get("/v1/modules/terraform-aws-modules/vpc/aws/5.16.0", false).await;
    assert_eq!(v["version"], "5.16.0");
    assert!(v["root"]["inputs"].as_array().unwrap().iter().any(|i| i["required"] == true));

    let (_, v, _) = get("/v2/policies?page%5Bsize%5D=100&include=latest-version", false).await;
    assert_eq!(
        v["data"][0]["relationships"]["latest-version"]["links"]["related"],
        "/v2/policies/hashicorp/CIS-Policy-Set-for-AWS-Terraform/1.0.1"
    );
    let (_, v, _) =
        get("/v2/policies/hashicorp/CIS-Policy-Set-for-AWS-Terraform/1.0.1?include=policies,policy-modules,policy-library", false).await;
    assert!(v["included"].as_array().unwrap().iter().any(|i| i["type"] == "policies"));

    let (s, v, _) = get("/v1/providers/nobody/nothing", false).await;
    assert_eq!((s, v), (StatusCode::NOT_FOUND, serde_json::json!({"errors": ["Not Found"]})));
}

#[tokio::test]
async fn credentials_are_refused_and_giant_documents_are_giant() {
    let (s, _, _) = get("/v1/providers?q=aws", true).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, len) = get("/v2/provider-docs/9000002", false).await;
    assert_eq!(s, StatusCode::OK);
    assert!(len > ENORMOUS_DOC_BYTES, "{len}");
}
