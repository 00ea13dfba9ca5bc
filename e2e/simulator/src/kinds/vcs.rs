//! VCS connections (OAuth clients and their tokens), GitHub App
//! installations and SSH keys, shaped like the oauth-clients, oauth-tokens,
//! github-app-installations and ssh-keys samples. Secrets are stored (so a
//! leak would show) and never returned.

use serde_json::{Value, json};

use crate::records::{Kind, Parent, READ_ONLY, Record};
use crate::seed::{ORG, SECOND_ORG};
use crate::store::{Store, Time};

pub const OAUTH_CLIENT: Kind = Kind {
    ops: READ_ONLY,
    write_only: &["oauth-token-string", "secret", "private-key"],
    defaults: oauth_client_defaults,
    ..Kind::new(
        "oauth-clients",
        "oc",
        "/organizations/{parent}/oauth-clients",
        "/oauth-clients/{id}",
        Parent::Organization,
        Some("organization"),
    )
};

pub const OAUTH_TOKEN: Kind = Kind {
    ops: READ_ONLY,
    write_only: &["ssh-key", "token"],
    ..Kind::new(
        "oauth-tokens",
        "ot",
        "/oauth-clients/{parent}/oauth-tokens",
        "/oauth-tokens/{id}",
        Parent::Record("oauth-clients"),
        Some("oauth-client"),
    )
};

/// Seen by every token (they belong to the token's GitHub user).
pub const GITHUB_APP_INSTALLATION: Kind = Kind {
    ops: READ_ONLY,
    ..Kind::new("github-app-installations", "ghain", "/github-app/installations", "/github-app/installation/{id}", Parent::Global, None)
};

/// The documented SSH key carries no organization relationship.
pub const SSH_KEY: Kind = Kind {
    required: &["name", "value"],
    write_only: &["value"],
    ..Kind::new("ssh-keys", "sshkey", "/organizations/{parent}/ssh-keys", "/ssh-keys/{id}", Parent::Organization, None)
};

pub const KINDS: &[Kind] = &[OAUTH_CLIENT, OAUTH_TOKEN, GITHUB_APP_INSTALLATION, SSH_KEY];

fn oauth_client_defaults() -> Value {
    json!({"service-provider": "github", "service-provider-display-name": "GitHub", "name": null,
           "http-url": "https://github.com", "api-url": "https://api.github.com", "key": null,
           "rsa-public-key": null, "organization-scoped": true})
}

/// Seeded ids and secrets, fixed so tests can name them (and look for leaks).
pub const OC_ACME: &str = "oc-AcmeGithub00000001";
pub const OT_ACME: &str = "ot-AcmeGithub00000001";
pub const OC_GLOBEX: &str = "oc-GlobexGithub000001";
pub const OT_GLOBEX: &str = "ot-GlobexGithub000001";
pub const GHAIN_OCTO: &str = "ghain-Octo00000000001";
pub const SSHKEY_ACME: &str = "sshkey-AcmeDeploy00001";
pub const SSHKEY_GLOBEX: &str = "sshkey-GlobexDeploy001";
pub const OAUTH_TOKEN_STRING: &str = "ghp_simOAuthTokenString4f1d";
pub const OAUTH_CLIENT_SECRET: &str = "sim-oauth-client-secret-9b2e";
pub const SSH_PRIVATE_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nsim-ssh-private-key-7c3a\n-----END RSA PRIVATE KEY-----";

pub fn seed(store: &mut Store, at: Time) {
    for (oc, ot, org, user) in [(OC_ACME, OT_ACME, ORG, "acme-bot"), (OC_GLOBEX, OT_GLOBEX, SECOND_ORG, "globex-bot")] {
        store.records.push(
            Record::seeded(
                &OAUTH_CLIENT,
                oc,
                org,
                json!({"name": format!("{org} GitHub"), "oauth-token-string": OAUTH_TOKEN_STRING, "secret": OAUTH_CLIENT_SECRET,
                       "callback-url": format!("https://app.terraform.io/auth/{oc}/callback")}),
                at,
            )
            .with_rels("oauth-tokens", "oauth-tokens", &[ot]),
        );
        store.records.push(Record::seeded(
            &OAUTH_TOKEN,
            ot,
            oc,
            json!({"service-provider-user": user, "has-ssh-key": true, "ssh-key": SSH_PRIVATE_KEY, "token": OAUTH_TOKEN_STRING}),
            at,
        ));
    }
    store.records.push(Record::seeded(
        &GITHUB_APP_INSTALLATION,
        GHAIN_OCTO,
        "",
        json!({"name": "octo-org", "installation-id": 54810170, "icon-url": "https://avatars.githubusercontent.com/u/29916665?v=4",
               "installation-type": "Organization", "installation-url": "https://github.com/settings/installations/54810170"}),
        at,
    ));
    store.records.push(Record::seeded(&SSH_KEY, SSHKEY_ACME, ORG, json!({"name": "acme deploy key", "value": SSH_PRIVATE_KEY}), at));
    store.records.push(Record::seeded(
        &SSH_KEY,
        SSHKEY_GLOBEX,
        SECOND_ORG,
        json!({"name": "globex deploy key", "value": SSH_PRIVATE_KEY}),
        at,
    ));
}
