//! Tickets: the one-time codes children sign in to the screener with. A ticket is ten
//! characters of Crockford's base32 (`0`–`9` and the capital letters but I, L, O and U:
//! 50 random bits), printed as `XXXXX-XXXXX`; typing it is forgiving (case, spaces and
//! hyphens do not matter; `O` reads as `0`, `I` and `L` as `1`). The store keeps only its
//! SHA-256.
//!
//! Issuing tickets for a cohort gives a new ticket to every member that has not yet signed in
//! (whose every ticket is unused) and revokes their earlier unused tickets: the sheet printed
//! last is the one that works. A ticket stops working the day after the cohort's last day
//! (00:00 UTC).

use super::audit::Audit;
use super::fields;
use super::{App, AppError, Caller};
use crate::auth::policy::Action;
use crate::store::Personal;
use crate::store::screening::{Cohort, NewTicket};

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a ticket.
pub const TICKET_CHARS: usize = 10;

/// A ticket issued to one child, with what its card shows.
#[derive(Clone)]
pub struct IssuedTicket {
    /// The child's code.
    pub code: String,
    /// The child's class in the cohort.
    pub class: String,
    /// Optional personal data.
    pub given_name: Option<Personal>,
    /// Optional personal data.
    pub family_name: Option<Personal>,
    /// The ticket, `XXXXX-XXXXX`.
    pub ticket: String,
}

impl std::fmt::Debug for IssuedTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTicket")
            .field("code", &self.code)
            .field("class", &self.class)
            .field("ticket", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl IssuedTicket {
    /// The child's name as a card shows it: given, then family name; empty without either.
    pub fn name(&self) -> String {
        [&self.given_name, &self.family_name]
            .into_iter()
            .flatten()
            .map(Personal::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A new random ticket, `XXXXX-XXXXX`.
pub fn new_ticket() -> String {
    let mut bytes = [0u8; TICKET_CHARS];
    rand::fill(&mut bytes[..]);
    let mut t = String::with_capacity(TICKET_CHARS + 1);
    for (i, b) in bytes.iter().enumerate() {
        if i == TICKET_CHARS / 2 {
            t.push('-');
        }
        // 256 is a multiple of 32: the low 5 bits of a uniform byte are uniform.
        t.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    t
}

/// The ten characters of a typed ticket, or `None` when it cannot be one (see the module
/// docs for what is forgiven).
pub fn normalise_ticket(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(TICKET_CHARS);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        if out.len() == TICKET_CHARS {
            return None;
        }
        out.push(c);
    }
    (out.len() == TICKET_CHARS).then_some(out)
}

/// The stored form of a ticket: the SHA-256 hex of its ten characters.
pub fn ticket_hash(normalised: &str) -> String {
    crate::auth::hash_secret(normalised)
}

/// When the cohort's tickets stop working, Unix milliseconds.
fn expiry(cohort: &Cohort) -> Result<i64, AppError> {
    let last = qabilet_core::age::parse_date(&cohort.ends_on)
        .map_err(|e| AppError::Internal(format!("a stored cohort's last day: {e}")))?;
    let next = last
        .tomorrow()
        .map_err(|e| AppError::Internal(format!("the day after a cohort's last day: {e}")))?;
    let ts = jiff::tz::Offset::UTC
        .to_timestamp(next.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|e| AppError::Internal(format!("a ticket's expiry: {e}")))?;
    Ok(ts.as_millisecond())
}

impl App {
    /// Issues tickets to the members of the cohort named `cohort` (all classes, or the one
    /// named) who have not signed in yet; returns them ordered by class and roster line.
    ///
    /// # Errors
    /// `NOT_FOUND`; `PERMISSION_DENIED`; `INVALID_ARGUMENT` for a class with no members.
    pub async fn issue_tickets(
        &self,
        caller: &Caller,
        cohort: &str,
        class: &str,
    ) -> Result<(Cohort, Vec<IssuedTicket>), AppError> {
        let mut audit = self.audit(caller, "issue_tickets", cohort);
        let result = self.issue_tickets_in(caller, cohort, class, &mut audit).await;
        self.finish(audit, result).await
    }

    async fn issue_tickets_in(
        &self,
        caller: &Caller,
        name: &str,
        class: &str,
        audit: &mut Audit,
    ) -> Result<(Cohort, Vec<IssuedTicket>), AppError> {
        let cohort = self
            .cohort_for(caller, name, "cohort", Action::ManageCohort, audit)
            .await?;
        let class = match class.trim() {
            "" => None,
            c => Some(fields::label("class", c, super::rosters::MAX_CLASS_CHARS)?),
        };
        let members = self.store.roster(&cohort.id).await?;
        if let Some(class) = &class
            && !members.iter().any(|m| &m.class == class)
        {
            return Err(AppError::invalid(
                "class",
                "no child of the cohort is in this class",
            ));
        }
        let started: std::collections::HashSet<String> = self
            .store
            .cohort_tickets(&cohort.id)
            .await?
            .into_iter()
            .filter(|t| t.device_hash.is_some())
            .map(|t| t.child_id)
            .collect();
        let expires_at = expiry(&cohort)?;
        let mut issued: Vec<(String, IssuedTicket)> = Vec::new();
        let mut stored = Vec::new();
        for m in members {
            if class.as_ref().is_some_and(|c| c != &m.class) || started.contains(&m.child_id) {
                continue;
            }
            let ticket = new_ticket();
            let normalised = normalise_ticket(&ticket)
                .ok_or_else(|| AppError::Internal("a new ticket does not read back".into()))?;
            stored.push(NewTicket {
                secret_hash: ticket_hash(&normalised),
                child_id: m.child_id.clone(),
                expires_at,
            });
            issued.push((
                m.child_id,
                IssuedTicket {
                    code: m.code,
                    class: m.class,
                    given_name: m.given_name,
                    family_name: m.family_name,
                    ticket,
                },
            ));
        }
        let got: std::collections::HashSet<String> = self
            .store
            .issue_tickets(&cohort.id, stored)
            .await?
            .into_iter()
            .collect();
        let issued: Vec<IssuedTicket> = issued
            .into_iter()
            .filter(|(child, _)| got.contains(child))
            .map(|(_, t)| t)
            .collect();
        audit.detail(format!("{} ticket(s) issued", issued.len()));
        Ok((cohort, issued))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_ticket_reads_back_and_typing_is_forgiving() {
        for _ in 0..100 {
            let t = new_ticket();
            assert_eq!(t.len(), TICKET_CHARS + 1);
            let n = normalise_ticket(&t).unwrap();
            assert_eq!(n, t.replace('-', ""));
            assert_eq!(normalise_ticket(&t.to_lowercase()).as_deref(), Some(n.as_str()));
            assert_eq!(
                normalise_ticket(&format!(" {} ", t.replace('-', " "))).as_deref(),
                Some(n.as_str())
            );
        }
        assert_eq!(normalise_ticket("OIL23-45678").as_deref(), Some("0112345678"));
        for bad in [
            "",
            "12345",
            "12345-678901",
            "12345-6789U",
            "12345-6789Ж",
            "12345_67890",
        ] {
            assert_eq!(normalise_ticket(bad), None, "{bad}");
        }
    }
}
