//! Token administration: creating, listing and revoking bearer tokens, each call audited.
//! The command line (`qabilet token …`) calls these as the machine's operator
//! ([`Caller::operator`]), who has direct access to the database and acts as an admin.

use super::{App, AppError, Caller, Channel, Peer};
use crate::auth::policy::{ALL_CENTRES, Action};
use crate::auth::{self, Principal};
use crate::store::{Page, PageRequest, Role, Token};

impl Caller {
    /// The operator of the machine running a `qabilet` command against the database
    /// directly: an admin over every centre, named `operator:<login>` (from `$USER`).
    pub fn operator() -> Caller {
        let login = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Caller {
            principal: Principal {
                token_id: String::new(),
                role: Role::Admin,
                centre: ALL_CENTRES.to_owned(),
                subject: format!("operator:{login}"),
            },
            peer: Peer {
                channel: Channel::Cli,
                addr: None,
            },
        }
    }
}

impl App {
    /// Creates a token for `role`, `centre` and `subject`, expiring at `expires_at` (Unix
    /// ms) if given; returns it with its secret (shown once; the store keeps its hash).
    ///
    /// # Errors
    /// `PERMISSION_DENIED` unless the caller may manage tokens; `UNAVAILABLE`.
    pub async fn create_token(
        &self,
        caller: &Caller,
        role: Role,
        centre: &str,
        subject: &str,
        expires_at: Option<i64>,
    ) -> Result<(Token, String), AppError> {
        let mut audit = self.audit(caller, "create_token", "tokens");
        let result = async {
            self.authorize(caller, Action::ManageTokens, None, "tokens")?;
            super::fields::token_name("centre", centre)?;
            super::fields::token_name("subject", subject)?;
            let (token, secret) = auth::issue_token(&*self.store, role, centre, subject, expires_at).await?;
            audit.resource(format!("tokens/{}", token.id));
            audit.detail(format!("role {role}, centre {centre}, subject {subject}"));
            Ok((token, secret))
        }
        .await;
        self.finish(audit, result).await
    }

    /// When the store holds no token at all (revoked ones count), creates an admin token for
    /// every centre with subject `bootstrap-admin` and returns its secret, for the server to
    /// print once; otherwise `None`. Audited as a token creation by `caller`.
    ///
    /// # Errors
    /// `UNAVAILABLE`.
    pub async fn bootstrap_admin(&self, caller: &Caller) -> Result<Option<String>, AppError> {
        if self.store.has_tokens().await? {
            return Ok(None);
        }
        let (_, secret) = self
            .create_token(caller, Role::Admin, ALL_CENTRES, auth::BOOTSTRAP_SUBJECT, None)
            .await?;
        Ok(Some(secret))
    }

    /// One page of tokens (never their secrets or hashes).
    ///
    /// # Errors
    /// `PERMISSION_DENIED` unless the caller may manage tokens; `UNAVAILABLE`.
    pub async fn list_tokens(&self, caller: &Caller, page: PageRequest) -> Result<Page<Token>, AppError> {
        let audit = self.audit(caller, "list_tokens", "tokens");
        let result = async {
            self.authorize(caller, Action::ManageTokens, None, "tokens")?;
            Ok(self.store.list_tokens(page).await?)
        }
        .await;
        self.finish(audit, result).await
    }

    /// Revokes token `id` (idempotent).
    ///
    /// # Errors
    /// `PERMISSION_DENIED` unless the caller may manage tokens; `NOT_FOUND`; `UNAVAILABLE`.
    pub async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<Token, AppError> {
        let audit = self.audit(caller, "revoke_token", format!("tokens/{id}"));
        let result = async {
            self.authorize(caller, Action::ManageTokens, None, "tokens")?;
            Ok(self.store.revoke_token(id).await?)
        }
        .await;
        self.finish(audit, result).await
    }
}
