//! What each role may do: the permission rules as pure functions over a [`Principal`].
//!
//! # The rules
//!
//! | action               | psychologist | supervisor | integrator | researcher | admin |
//! |----------------------|--------------|------------|------------|------------|-------|
//! | `ReadCatalog`        | all          | all        | all        | all        | all   |
//! | `Score`              | all          | all        | all        | all        | all   |
//! | `CreateChild`        | own          | —          | centre     | —          | all   |
//! | `ReadChild`          | own          | centre     | centre     | centre¹    | all   |
//! | `ListChildren`       | own          | centre     | centre     | centre¹    | all   |
//! | `StartSession`       | own          | —          | centre     | —          | all   |
//! | `ReadSession`        | own          | centre     | centre     | centre¹    | all   |
//! | `ListSessions`       | own          | centre     | centre     | centre¹    | all   |
//! | `RecordResponse`     | own          | —          | centre     | —          | all   |
//! | `ChangeSessionState` | own          | —          | centre     | —          | all   |
//! | `ReadResults`        | own          | centre     | centre     | centre¹    | all   |
//! | `ReadReport`         | own          | centre     | centre     | —²         | all   |
//! | `EditReport`         | own          | —³         | —³         | —²         | all   |
//! | `ManageCohort`       | own          | centre     | centre     | —          | all   |
//! | `ReadCohort`         | own          | centre     | centre     | —          | all   |
//! | `ManageTokens`       | —            | —          | —          | —          | all   |
//!
//! * **all**: allowed, whatever the resource;
//! * **centre**: allowed on a resource of the principal's centre;
//! * **own**: allowed on a resource of the principal's centre whose owner is the principal's
//!   subject (a child's owner is who registered it; a session's owner is its examiner);
//! * **—**: never;
//! * ¹ de-identified ([`deidentified`]);
//! * ² a consultation report is about one identifiable child — written to be given to its
//!   parents, with the child's age, test date and recommendations — so it cannot be
//!   de-identified the way scores are: researchers work from de-identified results instead;
//! * ³ the recommendations are the examining psychologist's professional judgement, and an
//!   edit is signed by its author: a supervisor reviews the centre's reports (and discusses
//!   changes with the psychologist) and an integrating system shows them, but neither
//!   rewrites them.
//!
//! A principal whose centre is `*` ([`ALL_CENTRES`]) is in every centre (the bootstrap admin;
//! a researcher or supervisor over all centres). Only the principal's centre is a wildcard: a
//! resource whose centre is the text `*` is in no one's centre but that.
//!
//! # The resource
//!
//! `allowed` is given the stored record the action touches, as [`Owned`]:
//!
//! * `ReadChild`, `StartSession`: the child;
//! * `ReadSession`, `ReadResults`, `RecordResponse`, `ChangeSessionState`, `ReadReport`,
//!   `EditReport`: the session (the centre of its child, its examiner as owner);
//! * `ListSessions`: the child whose sessions are listed, or `None` for a list over the
//!   caller's whole scope;
//! * `ListChildren`: `None` (the list over the caller's scope);
//! * `CreateChild`: the child as it will be stored, or `None`;
//! * `ManageCohort` (create a cohort, import its roster, issue tickets, proctor it),
//!   `ReadCohort` (read a cohort, its roster, its results): the cohort (its centre, its
//!   creator as owner), or `None` to create one or list cohorts;
//! * `ReadCatalog`, `Score`, `ManageTokens`: ignored.
//!
//! A cohort's roster names children and carries no de-identified form, so researchers do not
//! read cohorts.
//!
//! `None` for `CreateChild`, `ListChildren` or `ListSessions` asks whether the role may do it
//! within its own scope at all; the service must then confine it there: store the new child
//! with the principal's centre and subject as owner, and filter lists with [`list_scope`].
//! `None` for an action on one record (read, start, record, change) is refused to everyone
//! but admin: the check fails closed.

use crate::store::{Child, Role, Session};

use super::Principal;

/// The centre of a principal that is in every centre.
pub const ALL_CENTRES: &str = "*";

/// Something a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// List or read batteries and norm sets.
    ReadCatalog,
    /// Stateless computations on numbers given by the caller: scoring raw scores, planning
    /// a referral rule (nothing is stored, no child's data read).
    Score,
    /// Register a child.
    CreateChild,
    /// Read one child.
    ReadChild,
    /// List children.
    ListChildren,
    /// Open a test session for a child.
    StartSession,
    /// Read one session.
    ReadSession,
    /// List sessions.
    ListSessions,
    /// Append an item response to a session.
    RecordResponse,
    /// Pause, resume or finish a session.
    ChangeSessionState,
    /// Read a session's scores.
    ReadResults,
    /// Read a finished session's consultation report and the edits to it.
    ReadReport,
    /// Append an edit to an item of a session's consultation report.
    EditReport,
    /// Create a screening cohort, import its roster, issue its tickets, proctor it.
    ManageCohort,
    /// Read a screening cohort, its roster and its results; list cohorts.
    ReadCohort,
    /// Create, list or revoke bearer tokens.
    ManageTokens,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 16] = [
        Action::ReadCatalog,
        Action::Score,
        Action::CreateChild,
        Action::ReadChild,
        Action::ListChildren,
        Action::StartSession,
        Action::ReadSession,
        Action::ListSessions,
        Action::RecordResponse,
        Action::ChangeSessionState,
        Action::ReadResults,
        Action::ReadReport,
        Action::EditReport,
        Action::ManageCohort,
        Action::ReadCohort,
        Action::ManageTokens,
    ];

    /// Whether the action may be checked without a record (`None`): it creates a record or
    /// lists records, and the service confines it to the principal's scope.
    fn on_own_scope(self) -> bool {
        matches!(
            self,
            Action::CreateChild
                | Action::ListChildren
                | Action::ListSessions
                | Action::ManageCohort
                | Action::ReadCohort
        )
    }
}

/// The centre and the owning subject of a child or a session (for a session: the centre of
/// its child and its examiner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owned<'a> {
    /// The centre the record belongs to.
    pub centre: &'a str,
    /// The subject owning it: who registered the child, or the session's examiner.
    pub owner: &'a str,
}

/// On which resources a role may do an action (one cell of the table above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// Whatever the resource.
    All,
    /// Resources of the principal's centre.
    Centre,
    /// Resources of the principal's centre owned by the principal's subject.
    Own,
    /// Never.
    No,
}

/// The table of the module docs, cell for cell.
#[rustfmt::skip]
fn grant(role: Role, action: Action) -> Grant {
    use Grant::{All, Centre, No, Own};
    let [psychologist, supervisor, integrator, researcher, admin] = match action {
        //                          psychologist supervisor integrator researcher admin
        Action::ReadCatalog        => [All,        All,       All,       All,       All],
        Action::Score              => [All,        All,       All,       All,       All],
        Action::CreateChild        => [Own,        No,        Centre,    No,        All],
        Action::ReadChild          => [Own,        Centre,    Centre,    Centre,    All],
        Action::ListChildren       => [Own,        Centre,    Centre,    Centre,    All],
        Action::StartSession       => [Own,        No,        Centre,    No,        All],
        Action::ReadSession        => [Own,        Centre,    Centre,    Centre,    All],
        Action::ListSessions       => [Own,        Centre,    Centre,    Centre,    All],
        Action::RecordResponse     => [Own,        No,        Centre,    No,        All],
        Action::ChangeSessionState => [Own,        No,        Centre,    No,        All],
        Action::ReadResults        => [Own,        Centre,    Centre,    Centre,    All],
        Action::ReadReport         => [Own,        Centre,    Centre,    No,        All],
        Action::EditReport         => [Own,        No,        No,        No,        All],
        Action::ManageCohort       => [Own,        Centre,    Centre,    No,        All],
        Action::ReadCohort         => [Own,        Centre,    Centre,    No,        All],
        Action::ManageTokens       => [No,         No,        No,        No,        All],
    };
    match role {
        Role::Psychologist => psychologist,
        Role::Supervisor => supervisor,
        Role::Integrator => integrator,
        Role::Researcher => researcher,
        Role::Admin => admin,
    }
}

/// Whether `centre` is in the principal's centre (`*` is in every centre).
fn in_centre(p: &Principal, centre: &str) -> bool {
    p.centre == ALL_CENTRES || p.centre == centre
}

/// Whether `p` may do `action` on `resource` (see the module docs for the table and for
/// what `resource` is per action).
pub fn allowed(p: &Principal, action: Action, resource: Option<Owned<'_>>) -> bool {
    match (grant(p.role, action), resource) {
        (Grant::All, _) => true,
        (Grant::No, _) => false,
        (Grant::Centre, Some(r)) => in_centre(p, r.centre),
        (Grant::Own, Some(r)) => in_centre(p, r.centre) && r.owner == p.subject,
        (Grant::Centre | Grant::Own, None) => action.on_own_scope(),
    }
}

/// Whether `p` reads every child of `centre`, whoever registered it (a roster imported by such
/// a caller may enrol children other subjects registered).
pub fn reads_whole_centre(p: &Principal, centre: &str) -> bool {
    match grant(p.role, Action::ReadChild) {
        Grant::All => true,
        Grant::Centre => in_centre(p, centre),
        Grant::Own | Grant::No => false,
    }
}

/// The filters of a list over everything `p` may see: `(centre, owner)`, `None` meaning
/// "any".
///
/// * psychologist: its centre and its own subject;
/// * supervisor, integrator, researcher: its centre;
/// * admin: no filter;
///
/// and no centre filter when the principal's centre is `*`.
pub fn list_scope(p: &Principal) -> (Option<String>, Option<String>) {
    let centre = (p.centre != ALL_CENTRES).then(|| p.centre.clone());
    match p.role {
        Role::Admin => (None, None),
        Role::Psychologist => (centre, Some(p.subject.clone())),
        Role::Supervisor | Role::Integrator | Role::Researcher => (centre, None),
    }
}

/// Whether `p` sees de-identified data only (researchers).
///
/// De-identified means: a child's given name, family name and notes are blank, and its birth
/// date is given as year and month only (`2017-03`, not `2017-03-14`); the pseudonymous code,
/// sex, test language, centre and ids stay. [`deidentify_child`] applies exactly this. Sessions
/// and results shown to such a principal must not give the birth date back either (an exact
/// age together with the test date recomputes it): their test date is given as year and month
/// and the age in whole months (`grpc::convert::deidentified_profile`).
pub fn deidentified(p: &Principal) -> bool {
    p.role == Role::Researcher
}

/// Removes from `child` what a de-identified view must not show (see [`deidentified`]): the
/// names and notes, the day of the birth date (a date that is not `YYYY-MM-…` is blanked),
/// and the registration time but for its month (it would give the day of a first session).
pub fn deidentify_child(child: &mut Child) {
    child.given_name = None;
    child.family_name = None;
    child.notes = None;
    child.birth_date = year_month(&child.birth_date);
    child.created_at = month_start(child.created_at);
}

/// Removes from `session` what a de-identified view must not show: the day of the test date
/// and of its creation and finishing times (the first day of their month is shown).
pub fn deidentify_session(session: &mut Session) {
    session.test_date = year_month(&session.test_date);
    session.created_at = month_start(session.created_at);
    session.finished_at = session.finished_at.map(month_start);
}

/// `YYYY-MM` of a `YYYY-MM-DD` date; empty for anything else.
fn year_month(date: &str) -> String {
    date.get(..7)
        .filter(|m| {
            let b = m.as_bytes();
            b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5..].iter().all(u8::is_ascii_digit)
        })
        .unwrap_or("")
        .to_owned()
}

/// The first instant (UTC) of the month of Unix time `ms`, in milliseconds; 0 when out of range.
fn month_start(ms: i64) -> i64 {
    let utc = jiff::tz::Offset::UTC;
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| utc.to_datetime(t).date().first_of_month())
        .and_then(|d| {
            utc.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .ok()
        })
        .map_or(0, |t| t.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, centre: &str, subject: &str) -> Principal {
        Principal {
            token_id: "t".into(),
            role,
            centre: centre.into(),
            subject: subject.into(),
        }
    }

    /// Every role × action, spelled out. Each cell gives the expected answer, `Y` or `n`, for
    /// four resources, in this order: the principal's own (its centre, its subject); another
    /// owner's in its centre; one in another centre; no resource (`None`). The principals
    /// are in centre "almaty-1" with subject "me".
    #[rustfmt::skip]
    const TABLE: [(Action, [&str; 5]); 16] = [
        //                           psychologist supervisor integrator researcher admin
        (Action::ReadCatalog,        ["YYYY",      "YYYY",    "YYYY",    "YYYY",    "YYYY"]),
        (Action::Score,              ["YYYY",      "YYYY",    "YYYY",    "YYYY",    "YYYY"]),
        (Action::CreateChild,        ["YnnY",      "nnnn",    "YYnY",    "nnnn",    "YYYY"]),
        (Action::ReadChild,          ["Ynnn",      "YYnn",    "YYnn",    "YYnn",    "YYYY"]),
        (Action::ListChildren,       ["YnnY",      "YYnY",    "YYnY",    "YYnY",    "YYYY"]),
        (Action::StartSession,       ["Ynnn",      "nnnn",    "YYnn",    "nnnn",    "YYYY"]),
        (Action::ReadSession,        ["Ynnn",      "YYnn",    "YYnn",    "YYnn",    "YYYY"]),
        (Action::ListSessions,       ["YnnY",      "YYnY",    "YYnY",    "YYnY",    "YYYY"]),
        (Action::RecordResponse,     ["Ynnn",      "nnnn",    "YYnn",    "nnnn",    "YYYY"]),
        (Action::ChangeSessionState, ["Ynnn",      "nnnn",    "YYnn",    "nnnn",    "YYYY"]),
        (Action::ReadResults,        ["Ynnn",      "YYnn",    "YYnn",    "YYnn",    "YYYY"]),
        (Action::ReadReport,         ["Ynnn",      "YYnn",    "YYnn",    "nnnn",    "YYYY"]),
        (Action::EditReport,         ["Ynnn",      "nnnn",    "nnnn",    "nnnn",    "YYYY"]),
        (Action::ManageCohort,       ["YnnY",      "YYnY",    "YYnY",    "nnnn",    "YYYY"]),
        (Action::ReadCohort,         ["YnnY",      "YYnY",    "YYnY",    "nnnn",    "YYYY"]),
        (Action::ManageTokens,       ["nnnn",      "nnnn",    "nnnn",    "nnnn",    "YYYY"]),
    ];

    const OWN: Owned<'static> = Owned {
        centre: "almaty-1",
        owner: "me",
    };
    const SAME_CENTRE: Owned<'static> = Owned {
        centre: "almaty-1",
        owner: "colleague",
    };
    const OTHER_CENTRE: Owned<'static> = Owned {
        centre: "astana-2",
        owner: "stranger",
    };

    fn answers(p: &Principal, action: Action) -> String {
        [Some(OWN), Some(SAME_CENTRE), Some(OTHER_CENTRE), None]
            .into_iter()
            .map(|r| if allowed(p, action, r) { 'Y' } else { 'n' })
            .collect()
    }

    #[test]
    fn every_role_and_action_as_in_the_table() {
        assert_eq!(
            TABLE.map(|(a, _)| a),
            Action::ALL,
            "the table covers every action once, in order"
        );
        let roles = [
            Role::Psychologist,
            Role::Supervisor,
            Role::Integrator,
            Role::Researcher,
            Role::Admin,
        ];
        assert_eq!(roles, Role::ALL);
        let mut wrong = Vec::new();
        for (action, row) in TABLE {
            for (role, expected) in roles.into_iter().zip(row) {
                let centre = if role == Role::Admin { "*" } else { "almaty-1" };
                let got = answers(&principal(role, centre, "me"), action);
                if got != expected {
                    wrong.push(format!("{role} {action:?}: expected {expected}, got {got}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn an_admin_is_one_whatever_its_centre() {
        let p = principal(Role::Admin, "almaty-1", "me");
        for action in Action::ALL {
            assert_eq!(answers(&p, action), "YYYY", "{action:?}");
        }
    }

    #[test]
    fn a_star_centre_covers_every_centre() {
        for role in [Role::Supervisor, Role::Integrator, Role::Researcher] {
            let p = principal(role, ALL_CENTRES, "me");
            assert!(allowed(&p, Action::ReadChild, Some(OTHER_CENTRE)), "{role}");
            assert!(allowed(&p, Action::ReadResults, Some(SAME_CENTRE)), "{role}");
        }
        // Only writes the role has anywhere.
        let r = principal(Role::Researcher, ALL_CENTRES, "me");
        assert!(!allowed(&r, Action::RecordResponse, Some(OTHER_CENTRE)));
        // A psychologist over every centre still sees only its own.
        let psy = principal(Role::Psychologist, ALL_CENTRES, "me");
        assert!(allowed(
            &psy,
            Action::ReadChild,
            Some(Owned {
                centre: "astana-2",
                owner: "me"
            })
        ));
        assert!(!allowed(&psy, Action::ReadChild, Some(OTHER_CENTRE)));
        // A record whose centre is literally "*" is not everyone's.
        let sup = principal(Role::Supervisor, "almaty-1", "me");
        assert!(!allowed(
            &sup,
            Action::ReadChild,
            Some(Owned {
                centre: "*",
                owner: "x"
            })
        ));
    }

    #[test]
    fn ownership_needs_the_same_centre_too() {
        // The same subject name in another centre is someone else.
        let p = principal(Role::Psychologist, "almaty-1", "me");
        let namesake = Owned {
            centre: "astana-2",
            owner: "me",
        };
        for action in [
            Action::ReadChild,
            Action::ReadSession,
            Action::RecordResponse,
            Action::ReadResults,
        ] {
            assert!(!allowed(&p, action, Some(namesake)), "{action:?}");
        }
    }

    #[test]
    fn list_scopes() {
        let scope = |role, centre| list_scope(&principal(role, centre, "me"));
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            scope(Role::Psychologist, "almaty-1"),
            (some("almaty-1"), some("me"))
        );
        assert_eq!(scope(Role::Psychologist, "*"), (None, some("me")));
        for role in [Role::Supervisor, Role::Integrator, Role::Researcher] {
            assert_eq!(scope(role, "almaty-1"), (some("almaty-1"), None), "{role}");
            assert_eq!(scope(role, "*"), (None, None), "{role}");
        }
        assert_eq!(scope(Role::Admin, "*"), (None, None));
        assert_eq!(scope(Role::Admin, "almaty-1"), (None, None));
    }

    /// Whatever a list scope lets through, reading it one by one is allowed too.
    #[test]
    fn list_scopes_agree_with_reads() {
        let records = [OWN, SAME_CENTRE, OTHER_CENTRE];
        for role in Role::ALL {
            for centre in ["almaty-1", "*"] {
                let p = principal(role, centre, "me");
                let (c, o) = list_scope(&p);
                for r in records {
                    let listed = c.as_deref().is_none_or(|c| c == r.centre)
                        && o.as_deref().is_none_or(|o| o == r.owner);
                    assert_eq!(
                        listed,
                        allowed(&p, Action::ReadChild, Some(r)),
                        "{role} in {centre} on {r:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_researchers_see_deidentified_data() {
        for role in Role::ALL {
            assert_eq!(deidentified(&principal(role, "c", "s")), role == Role::Researcher);
        }
    }

    #[test]
    fn deidentifying_a_child_blanks_names_and_notes_and_keeps_the_birth_month() {
        let mut c = Child {
            id: "01".into(),
            code: "K-17".into(),
            birth_date: "2017-03-14".into(),
            sex: Some("f".into()),
            test_language: "kk".into(),
            centre: "almaty-1".into(),
            owner: "psy".into(),
            given_name: Some("Aliya".into()),
            family_name: Some("Nurlanova".into()),
            notes: Some("left-handed".into()),
            created_at: 1,
        };
        c.created_at = 1_796_668_114_727; // 2026-12-07T18:28:34.727Z
        deidentify_child(&mut c);
        assert_eq!((&c.given_name, &c.family_name, &c.notes), (&None, &None, &None));
        assert_eq!(c.created_at, 1_796_083_200_000, "2026-12-01T00:00:00Z");
        assert_eq!(c.birth_date, "2017-03");
        assert_eq!((c.code.as_str(), c.sex.as_deref()), ("K-17", Some("f")));

        let mut odd = Child {
            birth_date: "14.03.2017".into(),
            ..c.clone()
        };
        deidentify_child(&mut odd);
        assert_eq!(odd.birth_date, "");
        let mut short = Child {
            birth_date: "2017".into(),
            ..c
        };
        deidentify_child(&mut short);
        assert_eq!(short.birth_date, "");
    }
}
