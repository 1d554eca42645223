//! Who is calling: bearer tokens checked against the store, and ([`policy`]) what each role may do.
//!
//! A token is a secret `qbt_` followed by 40 random characters of the lowercase RFC 4648
//! base32 alphabet (`a`–`z`, `2`–`7`): 200 bits from `rand`'s thread generator (a CSPRNG
//! seeded by the operating system). The secret is shown once, when it is created; the store
//! keeps only the SHA-256 of the whole secret, as lowercase hex ([`hash_secret`]), so a copy of
//! the database gives no usable token. Callers send it as `authorization: Bearer <secret>`.
//!
//! No error message or log line ever contains a secret (nor its hash).
//!
//! # Caching and revocation
//!
//! [`Authenticator::new`] remembers tokens it has accepted for [`CACHE_TTL`] (5 seconds), so
//! a busy client costs one store lookup per token every 5 seconds instead of one per call. The
//! price: **a revoked token may still be accepted for up to [`CACHE_TTL`] after its
//! revocation**, by each server replica that accepted it just before. Unknown and revoked
//! tokens are never cached (every attempt with one reaches the store, so a token created a
//! moment ago works at once). [`Authenticator::with_cache_ttl`] with [`Duration::ZERO`] turns
//! the cache off.
//!
//! # Expiry
//!
//! A token may carry an expiry time; from that moment it is refused like a revoked one, the
//! cached ones included (the cache keeps each token's expiry and checks it on every call).

pub mod policy;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::store::{NewToken, Role, Store, StoreError, Token};

/// What every secret starts with (it makes a leaked token easy to recognise and search for).
pub const SECRET_PREFIX: &str = "qbt_";
/// Number of random base32 characters after [`SECRET_PREFIX`] (5 bits each: 200 bits).
pub const SECRET_RANDOM_CHARS: usize = 40;
/// How long an accepted token is remembered: the longest a revoked token may still be
/// accepted by a running server.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
/// Subject of the admin token [`bootstrap_admin`] creates.
pub const BOOTSTRAP_SUBJECT: &str = "bootstrap-admin";

/// Lowercase RFC 4648 base32.
const SECRET_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Most tokens remembered at once (only accepted tokens are, so this bounds nothing an
/// attacker controls; past it, expired entries are dropped, then all).
const CACHE_CAPACITY: usize = 4096;

/// An authenticated caller: the token it presented and what that token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Id of the token (not its secret).
    pub token_id: String,
    /// The role the token grants.
    pub role: Role,
    /// The centre the token belongs to; `*` ([`policy::ALL_CENTRES`]) for every centre.
    pub centre: String,
    /// Who uses the token, e.g. "psy-aliya": the owner of the children it creates and the
    /// examiner of the sessions it starts.
    pub subject: String,
}

impl From<Token> for Principal {
    fn from(t: Token) -> Self {
        Principal {
            token_id: t.id,
            role: t.role,
            centre: t.centre,
            subject: t.subject,
        }
    }
}

/// A new token secret: `qbt_` and 40 random lowercase base32 characters.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_RANDOM_CHARS];
    rand::fill(&mut bytes[..]);
    let mut secret = String::with_capacity(SECRET_PREFIX.len() + SECRET_RANDOM_CHARS);
    secret.push_str(SECRET_PREFIX);
    // 256 is a multiple of 32: the low 5 bits of a uniform byte are uniform.
    secret.extend(bytes.iter().map(|b| SECRET_ALPHABET[usize::from(b & 31)] as char));
    secret
}

/// The SHA-256 of the whole secret (prefix included), as 64 lowercase hex digits: the only
/// form in which the store keeps it.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    hex
}

/// Whether `secret` has the shape of a secret [`new_secret`] makes (anything else cannot be a
/// stored token and is refused without asking the store).
fn well_formed(secret: &str) -> bool {
    secret.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_RANDOM_CHARS && rest.bytes().all(|c| SECRET_ALPHABET.contains(&c))
    })
}

/// Creates a token for `role`, `centre` and `subject`, expiring at `expires_at` (Unix
/// milliseconds; `None` for never), and returns it with its secret (shown to the user once;
/// the store keeps only [`hash_secret`] of it).
///
/// # Errors
///
/// The store's error; [`StoreError::Duplicate`] only if 200 random bits repeat.
pub async fn issue_token(
    store: &dyn Store,
    role: Role,
    centre: &str,
    subject: &str,
    expires_at: Option<i64>,
) -> Result<(Token, String), StoreError> {
    let secret = new_secret();
    let token = store
        .create_token(NewToken {
            role,
            centre: centre.to_owned(),
            subject: subject.to_owned(),
            secret_hash: hash_secret(&secret),
            expires_at,
        })
        .await?;
    Ok((token, secret))
}

/// When the store holds no token at all (revoked ones count), creates an `admin` token for
/// every centre (`*`) with subject [`BOOTSTRAP_SUBJECT`] and returns its secret, for the
/// server to print once; otherwise `None`.
///
/// Two servers starting at the same moment on one empty database may each create one; both
/// are ordinary admin tokens (`qabilet token list` shows them, `qabilet token revoke` ends them).
///
/// # Errors
///
/// The store's error.
pub async fn bootstrap_admin(store: &dyn Store) -> Result<Option<String>, StoreError> {
    if store.has_tokens().await? {
        return Ok(None);
    }
    let (_, secret) = issue_token(store, Role::Admin, policy::ALL_CENTRES, BOOTSTRAP_SUBJECT, None).await?;
    Ok(Some(secret))
}

/// An accepted token in the cache.
struct Cached {
    principal: Principal,
    /// When it was looked up.
    at: Instant,
    /// The token's expiry, Unix milliseconds.
    expires_at: Option<i64>,
}

/// Whether a token expiring at `expires_at` has expired.
fn expired(expires_at: Option<i64>) -> bool {
    expires_at.is_some_and(|at| at <= crate::store::now_ms())
}

/// Checks the bearer token of each call against the store (see the module docs for the
/// cache and what it means for revocation).
pub struct Authenticator {
    store: Arc<dyn Store>,
    ttl: Duration,
    /// Accepted tokens by secret hash, with when they were looked up and when they expire.
    cache: Mutex<HashMap<String, Cached>>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Authenticates against `store`, remembering accepted tokens for [`CACHE_TTL`].
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_cache_ttl(store, CACHE_TTL)
    }

    /// Authenticates against `store`, remembering accepted tokens for `ttl` (a revoked token
    /// may be accepted for up to `ttl` after its revocation); [`Duration::ZERO`] asks the
    /// store on every call.
    pub fn with_cache_ttl(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Authenticator {
            store,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The caller presenting `authorization: Bearer <secret>`: `values` are every value of
    /// the `authorization` header (or metadata entry) of the request.
    ///
    /// # Errors
    ///
    /// * [`AuthError::Missing`] when there is no `authorization` header;
    /// * [`AuthError::Malformed`] when it is not exactly one `Bearer <secret>` (the scheme is
    ///   case-insensitive) in visible ASCII;
    /// * [`AuthError::Invalid`] when no such token is stored, or it is revoked or expired;
    /// * [`AuthError::Unavailable`] when the store cannot be asked (the cause is logged).
    pub async fn authenticate(&self, values: &[&[u8]]) -> Result<Principal, AuthError> {
        let secret = bearer_secret(values)?;
        self.authenticate_secret(secret).await
    }

    /// The caller holding token `secret` (as typed into the console's sign-in form).
    ///
    /// # Errors
    ///
    /// As [`Authenticator::authenticate`], without `Missing` and `Malformed`.
    pub async fn authenticate_secret(&self, secret: &str) -> Result<Principal, AuthError> {
        if !well_formed(secret) {
            return Err(AuthError::Malformed);
        }
        let hash = hash_secret(secret);
        if let Some(p) = self.cached(&hash) {
            return Ok(p);
        }
        match self.store.token_by_hash(&hash).await {
            Ok(Some(token)) if usable(&token) => {
                let expires_at = token.expires_at;
                let p = Principal::from(token);
                self.remember(hash, &p, expires_at);
                Ok(p)
            }
            Ok(_) => Err(AuthError::Invalid),
            Err(e) => {
                tracing::error!(error = %e, "token lookup failed");
                Err(AuthError::Unavailable)
            }
        }
    }

    /// The caller holding `token`, if it is still usable (a console session refers to its
    /// token by id and reads it with the session).
    ///
    /// # Errors
    ///
    /// [`AuthError::Invalid`] for a revoked or expired token.
    pub fn principal_of(token: &Token) -> Result<Principal, AuthError> {
        if usable(token) {
            Ok(Principal::from(token.clone()))
        } else {
            Err(AuthError::Invalid)
        }
    }

    fn cached(&self, hash: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        match cache.get(hash) {
            Some(c) if c.at.elapsed() < self.ttl && !expired(c.expires_at) => Some(c.principal.clone()),
            Some(_) => {
                cache.remove(hash);
                None
            }
            None => None,
        }
    }

    fn remember(&self, hash: String, p: &Principal, expires_at: Option<i64>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            let ttl = self.ttl;
            cache.retain(|_, c| c.at.elapsed() < ttl);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(
            hash,
            Cached {
                principal: p.clone(),
                at: Instant::now(),
                expires_at,
            },
        );
    }
}

/// Whether a stored token authenticates: not revoked, not expired.
fn usable(token: &Token) -> bool {
    !token.revoked && !expired(token.expires_at)
}

/// Why a caller is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` header.
    #[error("missing bearer token")]
    Missing,
    /// Not exactly one `Bearer <secret>` in visible ASCII, or a secret of another shape than
    /// a token's.
    #[error("malformed authorization header or token")]
    Malformed,
    /// No such token, or it is revoked or expired.
    #[error("invalid, revoked or expired token")]
    Invalid,
    /// The token store cannot be asked.
    #[error("cannot check the bearer token: the token store is unavailable; retry later")]
    Unavailable,
}

/// The secret of the one `authorization: Bearer <secret>` header among `values`.
fn bearer_secret<'a>(values: &[&'a [u8]]) -> Result<&'a str, AuthError> {
    let value = match values {
        [] => return Err(AuthError::Missing),
        [one] => *one,
        _ => return Err(AuthError::Malformed),
    };
    let text = std::str::from_utf8(value)
        .ok()
        .filter(|t| t.bytes().all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic()))
        .ok_or(AuthError::Malformed)?;
    let (scheme, secret) = text.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    let secret = secret.trim_start_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() || secret.contains([' ', '\t']) {
        return Err(AuthError::Malformed);
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    async fn memory_store() -> Arc<dyn Store> {
        Arc::new(
            SqliteStore::open("sqlite::memory:")
                .await
                .expect("in-memory store"),
        )
    }

    /// The values of a request's `authorization` headers.
    fn headers(values: &[&str]) -> Vec<Vec<u8>> {
        values.iter().map(|v| v.as_bytes().to_vec()).collect()
    }

    async fn check(auth: &Authenticator, values: &[Vec<u8>]) -> Result<Principal, AuthError> {
        let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        auth.authenticate(&refs).await
    }

    fn bearer(secret: &str) -> Vec<Vec<u8>> {
        headers(&[&format!("Bearer {secret}")])
    }

    /// Refused with `expected`, whose message does not echo `secret`.
    fn assert_refused(r: Result<Principal, AuthError>, expected: AuthError, secret: &str) {
        let e = r.expect_err("refused");
        assert_eq!(e, expected);
        assert!(!secret.is_empty() && !e.to_string().contains(secret));
    }

    #[test]
    fn secrets_have_the_documented_shape_and_differ() {
        let a = new_secret();
        assert_eq!(a.len(), 44);
        assert!(a.starts_with("qbt_"));
        assert!(
            a[4..]
                .bytes()
                .all(|c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c))
        );
        assert!(well_formed(&a));
        assert_ne!(a, new_secret());
        assert!(!well_formed("qbt_short"));
        assert!(!well_formed(&a.to_uppercase()));
        assert!(!well_formed(&format!("xyz_{}", &a[4..])));
    }

    #[test]
    fn hash_is_sha256_hex_of_the_whole_secret() {
        // FIPS 180-2 test vector.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let s = new_secret();
        assert_ne!(hash_secret(&s), hash_secret(&s[4..]));
    }

    #[tokio::test]
    async fn accepts_a_stored_token_and_refuses_everything_else() {
        let store = memory_store().await;
        let (token, secret) = issue_token(&*store, Role::Psychologist, "almaty-1", "psy-aliya", None)
            .await
            .unwrap();
        let auth = Authenticator::with_cache_ttl(store.clone(), Duration::ZERO);

        let p = check(&auth, &bearer(&secret)).await.unwrap();
        assert_eq!(
            p,
            Principal {
                token_id: token.id.clone(),
                role: Role::Psychologist,
                centre: "almaty-1".into(),
                subject: "psy-aliya".into(),
            }
        );
        // The scheme is case-insensitive.
        assert!(
            check(&auth, &headers(&[&format!("bearer {secret}")]))
                .await
                .is_ok()
        );

        assert_refused(check(&auth, &[]).await, AuthError::Missing, "x");
        for header in [
            secret.clone(),
            format!("Basic {secret}"),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Bearer {secret} extra"),
            format!("Token {secret}"),
        ] {
            assert_refused(
                check(&auth, &headers(&[&header])).await,
                AuthError::Malformed,
                &secret,
            );
        }
        let two = headers(&[&format!("Bearer {secret}"), &format!("Bearer {secret}")]);
        assert_refused(check(&auth, &two).await, AuthError::Malformed, &secret);
        let binary = vec![b"Bearer \xff\xfe".to_vec()];
        assert_refused(check(&auth, &binary).await, AuthError::Malformed, "\u{ff}");

        let unknown = new_secret();
        assert_refused(
            check(&auth, &bearer(&unknown)).await,
            AuthError::Invalid,
            &unknown,
        );
        assert_refused(
            check(&auth, &bearer("qbt_nope")).await,
            AuthError::Malformed,
            "qbt_nope",
        );

        store.revoke_token(&token.id).await.unwrap();
        assert_refused(check(&auth, &bearer(&secret)).await, AuthError::Invalid, &secret);
    }

    #[tokio::test]
    async fn the_cache_forgets_a_revoked_token_after_its_ttl() {
        let store = memory_store().await;
        let (token, secret) = issue_token(&*store, Role::Supervisor, "almaty-1", "sup", None)
            .await
            .unwrap();
        let ttl = Duration::from_millis(200);
        let auth = Authenticator::with_cache_ttl(store.clone(), ttl);
        check(&auth, &bearer(&secret)).await.unwrap();
        store.revoke_token(&token.id).await.unwrap();
        // Still remembered: the documented window.
        let revoked_at = Instant::now();
        if check(&auth, &bearer(&secret)).await.is_err() {
            assert!(revoked_at.elapsed() >= ttl, "refused before the TTL ran out");
        }
        tokio::time::sleep(ttl).await;
        assert_refused(check(&auth, &bearer(&secret)).await, AuthError::Invalid, &secret);
        // Refusals are not cached.
        assert!(auth.cache.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_expired_token_is_refused_even_when_cached() {
        let store = memory_store().await;
        let now = crate::store::now_ms();
        let (_, old) = issue_token(&*store, Role::Psychologist, "c", "old", Some(now - 1))
            .await
            .unwrap();
        let auth = Authenticator::with_cache_ttl(store.clone(), Duration::from_secs(60));
        assert_refused(check(&auth, &bearer(&old)).await, AuthError::Invalid, &old);
        let (_, soon) = issue_token(&*store, Role::Psychologist, "c", "soon", Some(now + 300))
            .await
            .unwrap();
        let (_, never) = issue_token(&*store, Role::Psychologist, "c", "never", None)
            .await
            .unwrap();
        assert!(
            check(&auth, &bearer(&soon)).await.is_ok(),
            "valid until its expiry"
        );
        assert!(check(&auth, &bearer(&never)).await.is_ok());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_refused(check(&auth, &bearer(&soon)).await, AuthError::Invalid, &soon);
        assert!(check(&auth, &bearer(&never)).await.is_ok());
    }

    #[tokio::test]
    async fn store_failure_is_unavailable() {
        let store = memory_store().await;
        let (_, secret) = issue_token(&*store, Role::Admin, "*", "root", None)
            .await
            .unwrap();
        let auth = Authenticator::new(store.clone());
        store.close().await;
        let e = check(&auth, &bearer(&secret)).await.unwrap_err();
        assert_eq!(e, AuthError::Unavailable);
        assert!(!e.to_string().contains(&secret));
    }

    #[tokio::test]
    async fn bootstrap_creates_one_admin_token_into_an_empty_store_only() {
        let store = memory_store().await;
        let secret = bootstrap_admin(&*store)
            .await
            .unwrap()
            .expect("a new admin token");
        assert!(well_formed(&secret));
        let p = check(&Authenticator::new(store.clone()), &bearer(&secret))
            .await
            .unwrap();
        assert_eq!(
            (p.role, p.centre.as_str(), p.subject.as_str()),
            (Role::Admin, "*", "bootstrap-admin")
        );
        assert_eq!(bootstrap_admin(&*store).await.unwrap(), None);

        // A store whose only token is revoked is not bootstrapped again.
        store.revoke_token(&p.token_id).await.unwrap();
        assert_eq!(bootstrap_admin(&*store).await.unwrap(), None);
    }
}
