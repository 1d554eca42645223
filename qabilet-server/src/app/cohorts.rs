//! Cohorts: screening campaigns in one institution and grade. A cohort is created in the
//! caller's centre (or a named one the policy allows) and owned by its creator; the battery it
//! takes is one the service serves.

use qabilet_core::{Lang, age};

use super::audit::Audit;
use super::fields;
use super::idempotency::request_key;
use super::names::{battery_name, cohort_name, page_after};
use super::{App, AppError, Caller};
use crate::auth::policy::{self, Action, Owned};
use crate::store::screening::{Cohort, CohortFilter, NewCohort};
use crate::store::{Page, PageRequest};

/// Longest cohort name, region, district or institution.
pub const MAX_LABEL_CHARS: usize = 120;

/// A cohort as a caller gives it: text fields, checked by [`App::create_cohort`].
#[derive(Debug, Clone, Default)]
pub struct CohortInput {
    /// A short name.
    pub name: String,
    /// The centre; blank means the caller's own.
    pub centre: String,
    /// The subject owning it (the organiser who proctors it); blank means the caller. Only a
    /// role that may manage other subjects' cohorts can name another.
    pub owner: String,
    /// Region.
    pub region: String,
    /// District.
    pub district: String,
    /// School or institution.
    pub institution: String,
    /// `school`, `kindergarten`, `boarding` or `family_village`.
    pub institution_kind: String,
    /// `urban` or `rural`.
    pub locality: String,
    /// 0 (pre-school) to 11.
    pub grade: i64,
    /// Language of instruction: `kk`, `ru` or `en`.
    pub language: String,
    /// `batteries/{id}`.
    pub battery: String,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    /// `YYYY-MM-DD`.
    pub ends_on: String,
}

/// The kinds of institution a cohort can be in.
pub const INSTITUTION_KINDS: [&str; 4] = ["school", "kindergarten", "boarding", "family_village"];
/// Urban or rural.
pub const LOCALITIES: [&str; 2] = ["urban", "rural"];

fn one_of(field: &str, text: &str, allowed: &[&str]) -> Result<String, AppError> {
    let t = text.trim();
    if allowed.contains(&t) {
        Ok(t.to_owned())
    } else {
        Err(AppError::invalid(
            field,
            format!("must be one of {}", allowed.join(", ")),
        ))
    }
}

impl App {
    /// Creates a cohort; a retry with the same `request_id` returns the first one.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field; `PERMISSION_DENIED`; `NOT_FOUND` for a battery the
    /// service does not serve.
    pub async fn create_cohort(
        &self,
        caller: &Caller,
        input: CohortInput,
        request_id: &str,
    ) -> Result<Cohort, AppError> {
        let mut audit = self.audit(caller, "create_cohort", "cohorts");
        let result = self.create_cohort_in(caller, input, request_id, &mut audit).await;
        self.finish(audit, result).await
    }

    async fn create_cohort_in(
        &self,
        caller: &Caller,
        input: CohortInput,
        request_id: &str,
        audit: &mut Audit,
    ) -> Result<Cohort, AppError> {
        self.authorize(caller, Action::ManageCohort, None, "cohorts")?;
        let name = fields::label("cohort.name", &input.name, MAX_LABEL_CHARS)?;
        let region = fields::label("cohort.region", &input.region, MAX_LABEL_CHARS)?;
        let district = fields::label("cohort.district", &input.district, MAX_LABEL_CHARS)?;
        let institution = fields::label("cohort.institution", &input.institution, MAX_LABEL_CHARS)?;
        let kind = one_of(
            "cohort.institution_kind",
            &input.institution_kind,
            &INSTITUTION_KINDS,
        )?;
        let locality = one_of("cohort.locality", &input.locality, &LOCALITIES)?;
        if !(0..=11).contains(&input.grade) {
            return Err(AppError::invalid("cohort.grade", "must be 0 (pre-school) to 11"));
        }
        let language: Lang = input
            .language
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("cohort.language", "must be kk, ru or en"))?;
        let battery_id = battery_name(input.battery.trim(), "cohort.battery")?;
        if self.registry.get(battery_id).is_none() {
            return Err(AppError::NotFound {
                what: "battery",
                name: input.battery.trim().to_owned(),
            });
        }
        let date = |field: &str, text: &str| {
            age::parse_date(text.trim()).map_err(|e| AppError::invalid(field, e.to_string()))
        };
        let starts = date("cohort.starts_on", &input.starts_on)?;
        let ends = date("cohort.ends_on", &input.ends_on)?;
        if ends < starts {
            return Err(AppError::invalid("cohort.ends_on", "is before starts_on"));
        }
        let centre = self.centre_of_new(caller, "cohort.centre", &input.centre)?;
        let owner = match input.owner.trim() {
            "" => caller.principal.subject.clone(),
            named => fields::token_name("cohort.owner", named)?.to_owned(),
        };
        self.authorize(
            caller,
            Action::ManageCohort,
            Some(Owned {
                centre: &centre,
                owner: &owner,
            }),
            &format!("cohorts in centre '{centre}'"),
        )?;
        let grade = input.grade.to_string();
        let (starts, ends) = (starts.to_string(), ends.to_string());
        let request = request_key(
            caller,
            fields::request_id(request_id)?,
            "create_cohort",
            &[
                &name,
                &centre,
                &owner,
                &region,
                &district,
                &institution,
                &kind,
                &locality,
                &grade,
                language.code(),
                battery_id,
                &starts,
                &ends,
            ],
        );
        let created = self
            .store
            .create_cohort(NewCohort {
                centre,
                owner,
                name,
                region,
                district,
                institution,
                institution_kind: kind,
                locality,
                grade: input.grade,
                language: language.code().to_owned(),
                battery_id: battery_id.to_owned(),
                starts_on: starts,
                ends_on: ends,
                request,
            })
            .await?;
        audit.resource(format!("cohorts/{}", created.record.id));
        if created.existed {
            audit.detail("retry: the cohort stored by the first request");
        }
        Ok(created.record)
    }

    /// The cohort named `name` (`cohorts/{id}`, given in `field`), if `caller` may do
    /// `action` on it.
    pub(crate) async fn cohort_for(
        &self,
        caller: &Caller,
        name: &str,
        field: &str,
        action: Action,
        audit: &mut Audit,
    ) -> Result<Cohort, AppError> {
        let id = cohort_name(name, field)?;
        audit.resource(format!("cohorts/{id}"));
        let cohort = self.store.get_cohort(id).await?;
        self.authorize(
            caller,
            action,
            Some(Owned {
                centre: &cohort.centre,
                owner: &cohort.owner,
            }),
            name,
        )?;
        Ok(cohort)
    }

    /// One cohort.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed name; `NOT_FOUND`; `PERMISSION_DENIED`.
    pub async fn cohort(&self, caller: &Caller, name: &str) -> Result<Cohort, AppError> {
        let mut audit = self.audit(caller, "get_cohort", name);
        let result = self
            .cohort_for(caller, name, "name", Action::ReadCohort, &mut audit)
            .await;
        self.finish(audit, result).await
    }

    /// The cohorts `caller` may read, one page at a time.
    ///
    /// # Errors
    /// `PERMISSION_DENIED` for a role that reads no cohorts; `INVALID_ARGUMENT` for a foreign
    /// page token.
    pub async fn list_cohorts(&self, caller: &Caller, page: PageRequest) -> Result<Page<Cohort>, AppError> {
        let mut audit = self.audit(caller, "list_cohorts", "cohorts");
        let result = async {
            self.authorize(caller, Action::ReadCohort, None, "cohorts")?;
            let page = page_after(page)?;
            let (centre, owner) = policy::list_scope(&caller.principal);
            let found = self
                .store
                .list_cohorts(CohortFilter { centre, owner }, page)
                .await?;
            audit.detail(format!("{} cohort(s)", found.items.len()));
            Ok(found)
        }
        .await;
        self.finish(audit, result).await
    }
}
