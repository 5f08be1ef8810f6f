//! A small neighbourhood built with admin commands on a real server: two businesses, a
//! coordinator, a coach of the first business, owners, staff and an admin, each with a token.

use automerge::ActorId;
use nachbar_core::catalogue;
use nachbar_core::doc::EditContext;
use nachbar_core::label::Lang;
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
use nachbar_core::time::Timestamp;

use super::client::Client;
use super::http;
use super::server::TestServer;

/// The directory of a small neighbourhood.
pub(crate) struct World {
    pub(crate) server: TestServer,
    pub(crate) hood: String,
    pub(crate) b1: String,
    pub(crate) b2: String,
    pub(crate) users: std::collections::HashMap<&'static str, (String, String)>,
}

impl World {
    /// Starts a server and builds the directory with admin commands.
    pub(crate) async fn new() -> World {
        let server = TestServer::start().await;
        server.admin(&["init"]);
        let hood = server.admin(&["add-neighbourhood", "--name", "Testpark"]);
        let b1 = server.admin(&[
            "add-business",
            "--neighbourhood",
            &hood,
            "--name",
            "Glaserei",
            "--trade",
            "Glaser",
        ]);
        let b2 = server.admin(&[
            "add-business",
            "--neighbourhood",
            &hood,
            "--name",
            "Druckerei",
        ]);
        let mut users = std::collections::HashMap::new();
        for (name, role, scope) in [
            ("coordinator", "coordinator", hood.as_str()),
            ("coach", "coach", b1.as_str()),
            ("owner1", "owner", b1.as_str()),
            ("staff1", "staff", b1.as_str()),
            ("owner2", "owner", b2.as_str()),
            ("admin", "admin", ""),
        ] {
            let id = server.admin(&["add-user", "--name", name, "--role", role, "--scope", scope]);
            let token = server.admin(&["issue-token", "--user", &id]);
            users.insert(name, (id, token));
        }
        World {
            server,
            hood,
            b1,
            b2,
            users,
        }
    }

    /// Adds a business to the neighbourhood; returns its id.
    pub(crate) fn add_business(&self, name: &str) -> String {
        self.server.admin(&[
            "add-business",
            "--neighbourhood",
            &self.hood,
            "--name",
            name,
        ])
    }

    /// Adds a user with a role and a token.
    pub(crate) fn add_user(&mut self, name: &'static str, role: &str, scope: &str) {
        let id = self
            .server
            .admin(&["add-user", "--name", name, "--role", role, "--scope", scope]);
        let token = self.server.admin(&["issue-token", "--user", &id]);
        self.users.insert(name, (id, token));
    }

    /// A device of `who` with its own database at `database` (commits without fsync, the
    /// document list refreshed every `refresh`), not started.
    pub(crate) fn device(
        &self,
        who: &str,
        database: impl Into<std::path::PathBuf>,
        refresh: std::time::Duration,
    ) -> nachbar_core::client::Client {
        let mut config = nachbar_core::client::ClientConfig::new(
            database,
            self.server.http_url(),
            self.token(who),
        );
        config.durability = nachbar_core::store::Durability::Normal;
        config.refresh_every = refresh;
        nachbar_core::client::Client::open(config).expect("client opens")
    }

    /// A user's id.
    pub(crate) fn id(&self, who: &str) -> &str {
        &self.users[who].0
    }

    /// A user's token.
    pub(crate) fn token(&self, who: &str) -> &str {
        &self.users[who].1
    }

    /// A protocol client of `who`.
    pub(crate) async fn client(&self, who: &str) -> Client {
        Client::join(&self.server.url(), self.token(who), &format!("peer-{who}")).await
    }

    /// A new assessment of `business`, written offline by `who`.
    pub(crate) fn assessment(&self, who: &str, business: &str) -> AssessmentDoc {
        let ctx = EditContext::new(self.id(who), Timestamp::now());
        let new = NewAssessment {
            neighbourhood: &self.hood,
            business,
            release: catalogue::release_1_0(),
            stage: "T0",
            coach: None,
            language: Lang::De,
        };
        AssessmentDoc::create(ActorId::random(), &ctx, &new)
            .unwrap()
            .0
    }

    /// `GET /api/documents` as `who`.
    pub(crate) async fn documents(&self, who: &str) -> Vec<serde_json::Value> {
        http::get_json(self.server.port, "/api/documents", self.token(who))
            .await
            .as_array()
            .cloned()
            .unwrap()
    }
}
