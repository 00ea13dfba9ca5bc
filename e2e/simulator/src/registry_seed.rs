//! The public Terraform Registry's seeded data: a few providers (hashicorp/aws
//! with resource, data source and guide documents), modules and policy
//! libraries, in the shapes the registry's v1 and v2 APIs answer with.
//!
//! Provider `sim/giant` holds two oversized documents for the size bounds:
//! `big` (2 MiB of content) and `enormous` (6 MiB), rendered on demand.

/// Bytes of content of the `sim/giant` documents.
pub const BIG_DOC_BYTES: usize = 2 * 1024 * 1024;
pub const ENORMOUS_DOC_BYTES: usize = 6 * 1024 * 1024;

pub struct Doc {
    pub id: u64,
    pub category: &'static str,
    pub slug: &'static str,
    pub title: &'static str,
    pub subcategory: &'static str,
    pub description: &'static str,
    /// `None`: rendered (the oversized documents).
    pub body: Option<&'static str>,
}

pub struct ProviderVersion {
    pub id: u64,
    pub version: &'static str,
    pub published_at: &'static str,
    pub docs: Vec<Doc>,
}

pub struct Provider {
    pub id: u64,
    pub namespace: &'static str,
    pub name: &'static str,
    pub tier: &'static str,
    pub description: &'static str,
    pub source: &'static str,
    pub downloads: u64,
    /// Oldest first; the last one is the latest.
    pub versions: Vec<ProviderVersion>,
}

pub struct ModuleInput {
    pub name: &'static str,
    pub type_: &'static str,
    pub description: &'static str,
    /// JSON text of the default, as the registry sends it; `None` when required.
    pub default: Option<&'static str>,
}

pub struct Module {
    pub namespace: &'static str,
    pub name: &'static str,
    pub provider: &'static str,
    pub description: &'static str,
    pub source: &'static str,
    pub downloads: u64,
    pub verified: bool,
    /// Oldest first.
    pub versions: &'static [&'static str],
    pub inputs: Vec<ModuleInput>,
    pub outputs: &'static [(&'static str, &'static str)],
    pub resources: &'static [(&'static str, &'static str)],
    pub provider_constraint: &'static str,
}

pub struct PolicyLibrary {
    pub id: u64,
    pub namespace: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub ingress: &'static str,
    pub downloads: u64,
    pub verified: bool,
    /// Oldest first.
    pub versions: &'static [(u64, &'static str)],
    pub policies: &'static [(&'static str, &'static str, &'static str)],
    pub modules: &'static [(&'static str, &'static str)],
}

fn aws_docs(first_id: u64) -> Vec<Doc> {
    let d = |n: u64, category, slug, title, subcategory, description, body| Doc {
        id: first_id + n,
        category,
        slug,
        title,
        subcategory,
        description,
        body: Some(body),
    };
    vec![
        d(
            0,
            "overview",
            "index",
            "AWS Provider",
            "",
            "Use the Amazon Web Services (AWS) provider to interact with the many resources supported by AWS.",
            "# AWS Provider\n\nUse the Amazon Web Services (AWS) provider to interact with the many resources supported by AWS.\n\n## Example Usage\n\n```terraform\nprovider \"aws\" {\n  region = \"us-east-1\"\n}\n```\n",
        ),
        d(
            1,
            "resources",
            "instance",
            "aws_instance",
            "EC2 (Elastic Compute Cloud)",
            "Provides an EC2 instance resource. This allows instances to be created, updated, and deleted.",
            "# Resource: aws_instance\n\nProvides an EC2 instance resource.\n\n## Example Usage\n\n```terraform\nresource \"aws_instance\" \"web\" {\n  ami           = data.aws_ami.ubuntu.id\n  instance_type = \"t3.micro\"\n}\n```\n\n## Argument Reference\n\n* `ami` - (Optional) AMI to use for the instance.\n* `instance_type` - (Optional) Instance type to use for the instance.\n\n## Attribute Reference\n\n* `arn` - ARN of the instance.\n* `id` - ID of the instance.\n",
        ),
        d(
            2,
            "resources",
            "s3_bucket",
            "aws_s3_bucket",
            "S3 (Simple Storage)",
            "Provides a S3 bucket resource.",
            "# Resource: aws_s3_bucket\n\nProvides a S3 bucket resource.\n\n## Argument Reference\n\n* `bucket` - (Optional, Forces new resource) Name of the bucket.\n",
        ),
        d(
            3,
            "resources",
            "vpc",
            "aws_vpc",
            "VPC (Virtual Private Cloud)",
            "Provides a VPC resource.",
            "# Resource: aws_vpc\n\nProvides a VPC resource.\n\n## Argument Reference\n\n* `cidr_block` - (Optional) The IPv4 CIDR block for the VPC.\n",
        ),
        d(
            4,
            "data-sources",
            "ami",
            "aws_ami",
            "EC2 (Elastic Compute Cloud)",
            "Get information on an Amazon Machine Image (AMI).",
            "# Data Source: aws_ami\n\nUse this data source to get the ID of a registered AMI for use in other resources.\n",
        ),
        d(
            5,
            "guides",
            "custom-service-endpoints",
            "Custom Service Endpoint Configuration",
            "",
            "Configuring the Terraform AWS Provider to connect to custom AWS service endpoints.",
            "# Custom Service Endpoint Configuration\n\nThe Terraform AWS Provider configuration can be customized to connect to non-default AWS service endpoints.\n",
        ),
    ]
}

pub fn providers() -> Vec<Provider> {
    vec![
        Provider {
            id: 323,
            namespace: "hashicorp",
            name: "aws",
            tier: "official",
            description: "Lifecycle management of AWS resources, including EC2, Lambda, EKS, ECS, VPC, S3, RDS, DynamoDB, and more.",
            source: "https://github.com/hashicorp/terraform-provider-aws",
            downloads: 4_512_345_678,
            versions: vec![
                ProviderVersion { id: 40100, version: "4.67.0", published_at: "2023-05-18T23:02:45Z", docs: aws_docs(7_000_000) },
                ProviderVersion { id: 70700, version: "5.79.0", published_at: "2024-12-05T22:11:09Z", docs: aws_docs(8_800_000) },
                ProviderVersion { id: 70800, version: "5.80.0", published_at: "2024-12-12T20:44:41Z", docs: aws_docs(8_814_950) },
            ],
        },
        Provider {
            id: 330,
            namespace: "hashicorp",
            name: "random",
            tier: "official",
            description: "Supports the use of randomness within Terraform configurations.",
            source: "https://github.com/hashicorp/terraform-provider-random",
            downloads: 912_345_678,
            versions: vec![ProviderVersion {
                id: 60300,
                version: "3.6.3",
                published_at: "2024-09-11T10:00:00Z",
                docs: vec![Doc {
                    id: 7_900_001,
                    category: "resources",
                    slug: "password",
                    title: "random_password",
                    subcategory: "",
                    description: "Identical to random_string with the exception that the result is treated as sensitive.",
                    body: Some("# Resource: random_password\n\nIdentical to random_string.\n"),
                }],
            }],
        },
        Provider {
            id: 9001,
            namespace: "sim",
            name: "giant",
            tier: "community",
            description: "A simulator provider whose documents are far too big.",
            source: "https://github.com/example/terraform-provider-giant",
            downloads: 3,
            versions: vec![ProviderVersion {
                id: 90010,
                version: "1.0.0",
                published_at: "2025-01-01T00:00:00Z",
                docs: vec![
                    Doc {
                        id: 9_000_001,
                        category: "resources",
                        slug: "big",
                        title: "giant_big",
                        subcategory: "",
                        description: "A document of 2 MiB.",
                        body: None,
                    },
                    Doc {
                        id: 9_000_002,
                        category: "resources",
                        slug: "enormous",
                        title: "giant_enormous",
                        subcategory: "",
                        description: "A document of 6 MiB.",
                        body: None,
                    },
                ],
            }],
        },
    ]
}

pub fn modules() -> Vec<Module> {
    let input = |name, type_, description, default| ModuleInput { name, type_, description, default };
    vec![
        Module {
            namespace: "terraform-aws-modules",
            name: "vpc",
            provider: "aws",
            description: "Terraform module to create AWS VPC resources",
            source: "https://github.com/terraform-aws-modules/terraform-aws-vpc",
            downloads: 123_456_789,
            verified: false,
            versions: &["4.0.2", "5.16.0", "5.17.0"],
            inputs: vec![
                input("name", "string", "Name to be used on all the resources as identifier", Some("\"\"")),
                input("cidr", "string", "(Optional) The IPv4 CIDR block for the VPC.", Some("\"10.0.0.0/16\"")),
                input("azs", "list(string)", "A list of availability zones names or ids in the region", Some("[]")),
                input("private_subnets", "list(string)", "A list of private subnets inside the VPC", Some("[]")),
                input("vpc_owner_tag", "string", "Required owner tag of the VPC", None),
            ],
            outputs: &[("vpc_id", "The ID of the VPC"), ("private_subnets", "List of IDs of private subnets")],
            resources: &[("aws_vpc", "this"), ("aws_subnet", "private")],
            provider_constraint: ">= 5.46",
        },
        Module {
            namespace: "hashicorp",
            name: "consul",
            provider: "aws",
            description: "A Terraform Module for how to run Consul on AWS using Terraform and Packer",
            source: "https://github.com/hashicorp/terraform-aws-consul",
            downloads: 5_432_100,
            verified: true,
            versions: &["0.11.0"],
            inputs: vec![input("cluster_name", "string", "What to name the Consul cluster", None)],
            outputs: &[("asg_name_servers", "Name of the servers' Auto Scaling Group")],
            resources: &[("aws_autoscaling_group", "servers")],
            provider_constraint: ">= 3.0",
        },
    ]
}

pub fn policy_libraries() -> Vec<PolicyLibrary> {
    vec![
        PolicyLibrary {
            id: 61,
            namespace: "hashicorp",
            name: "CIS-Policy-Set-for-AWS-Terraform",
            title: "Pre-written Sentinel Policies for AWS CIS Foundations Benchmarking",
            ingress: "vcs",
            downloads: 98_765,
            verified: true,
            versions: &[(601, "1.0.0"), (602, "1.0.1")],
            policies: &[
                ("ec2-ebs-encryption-enabled", "EBS encryption by default", "EBS volumes must be encrypted by default."),
                ("s3-block-public-access", "S3 block public access", "S3 buckets must block public access."),
            ],
            modules: &[("report", "Report helpers")],
        },
        PolicyLibrary {
            id: 62,
            namespace: "hashicorp",
            name: "FSBP-Policy-Set-for-AWS-Terraform",
            title: "Pre-written Sentinel Policies for AWS Foundational Security Best Practices",
            ingress: "vcs",
            downloads: 12_345,
            verified: true,
            versions: &[(621, "0.3.0")],
            policies: &[("iam-no-admin-access", "IAM no admin access", "IAM policies must not allow full admin access.")],
            modules: &[],
        },
    ]
}
