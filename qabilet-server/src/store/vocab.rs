//! The closed vocabularies the store keeps as text: token roles, session states and audit
//! outcomes.

use std::fmt;
use std::str::FromStr;

use super::ParseEnumError;

/// The role a bearer token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Works with their own children and sessions.
    Psychologist,
    /// Oversees a centre.
    Supervisor,
    /// A service account of an integrating system.
    Integrator,
    /// Sees de-identified data only.
    Researcher,
    /// Administers the service.
    Admin,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 5] = [
        Role::Psychologist,
        Role::Supervisor,
        Role::Integrator,
        Role::Researcher,
        Role::Admin,
    ];

    /// The stored (and wire) name: "psychologist", "supervisor", …
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Psychologist => "psychologist",
            Role::Supervisor => "supervisor",
            Role::Integrator => "integrator",
            Role::Researcher => "researcher",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                what: "role",
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a test session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Responses may be appended.
    Active,
    /// Interrupted; may be resumed.
    Paused,
    /// Closed; the response log is final.
    Finished,
}

impl SessionState {
    /// Every state, in declaration order.
    pub const ALL: [SessionState; 3] = [SessionState::Active, SessionState::Paused, SessionState::Finished];

    /// The stored name: "active", "paused" or "finished".
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Active => "active",
            SessionState::Paused => "paused",
            SessionState::Finished => "finished",
        }
    }
}

impl FromStr for SessionState {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                what: "session state",
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call that was audited ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    /// Done as asked.
    Ok,
    /// Refused by the policy: the caller may not do this.
    Denied,
    /// Refused as bad input.
    Invalid,
    /// What was named does not exist.
    NotFound,
    /// Refused by the record's state (or a request id already used for another request).
    Conflict,
    /// No valid token.
    Unauthenticated,
    /// A dependency (the store) could not be reached.
    Unavailable,
    /// Failed for another reason.
    Error,
    /// The caller went away (the request was cancelled) before the call ended; a write it
    /// started may have been applied.
    Cancelled,
}

impl AuditOutcome {
    /// Every outcome, in declaration order.
    pub const ALL: [AuditOutcome; 9] = [
        AuditOutcome::Ok,
        AuditOutcome::Denied,
        AuditOutcome::Invalid,
        AuditOutcome::NotFound,
        AuditOutcome::Conflict,
        AuditOutcome::Unauthenticated,
        AuditOutcome::Unavailable,
        AuditOutcome::Error,
        AuditOutcome::Cancelled,
    ];

    /// The stored name: "ok", "denied", "invalid", "not_found", "conflict",
    /// "unauthenticated", "unavailable", "error" or "cancelled".
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Invalid => "invalid",
            AuditOutcome::NotFound => "not_found",
            AuditOutcome::Conflict => "conflict",
            AuditOutcome::Unauthenticated => "unauthenticated",
            AuditOutcome::Unavailable => "unavailable",
            AuditOutcome::Error => "error",
            AuditOutcome::Cancelled => "cancelled",
        }
    }
}

impl FromStr for AuditOutcome {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                what: "audit outcome",
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        for s in SessionState::ALL {
            assert_eq!(s.as_str().parse::<SessionState>(), Ok(s));
        }
        for o in AuditOutcome::ALL {
            assert_eq!(o.as_str().parse::<AuditOutcome>(), Ok(o));
        }
        assert!("root".parse::<Role>().is_err());
        assert!("fine".parse::<AuditOutcome>().is_err());
    }
}
