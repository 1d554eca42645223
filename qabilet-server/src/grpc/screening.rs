//! `Screening`: cohorts, rosters and tickets of stage-1 screening (conversion only; the
//! operations are the application layer's).

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::authenticate::caller;
use super::pb::screening_server::Screening;
use super::pb::{
    Cohort, CohortResults, CreateCohortRequest, ExportRosterRequest, ExportRosterResponse, GetCohortRequest,
    GetCohortResultsRequest, ImportRosterRequest, ImportRosterResponse, Interval, IssueTicketsRequest,
    IssueTicketsResponse, IssuedTicket, ListCohortsRequest, ListCohortsResponse, NormSetRef, ScreeningResult,
};
use super::requests::page;
use crate::app::{App, CohortInput, cohort_results_csv, roster_csv};
use crate::store::{Personal, rfc3339, screening};

/// The service.
#[derive(Clone)]
pub struct ScreeningService {
    app: Arc<App>,
}

impl ScreeningService {
    /// The screening operations of `app`.
    pub fn new(app: Arc<App>) -> Self {
        ScreeningService { app }
    }
}

fn cohort(c: screening::Cohort) -> Cohort {
    Cohort {
        name: format!("cohorts/{}", c.id),
        display_name: c.name,
        centre: c.centre,
        owner: c.owner,
        region: c.region,
        district: c.district,
        institution: c.institution,
        institution_kind: c.institution_kind,
        locality: c.locality,
        grade: i32::try_from(c.grade).unwrap_or(-1),
        language: c.language,
        battery: format!("batteries/{}", c.battery_id),
        starts_on: c.starts_on,
        ends_on: c.ends_on,
        create_time: rfc3339(c.created_at),
    }
}

#[tonic::async_trait]
impl Screening for ScreeningService {
    async fn create_cohort(&self, request: Request<CreateCohortRequest>) -> Result<Response<Cohort>, Status> {
        let caller = caller(&request)?;
        let CreateCohortRequest {
            cohort: c,
            request_id,
        } = request.into_inner();
        let c = c.unwrap_or_default();
        let input = CohortInput {
            name: c.display_name,
            centre: c.centre,
            owner: c.owner,
            region: c.region,
            district: c.district,
            institution: c.institution,
            institution_kind: c.institution_kind,
            locality: c.locality,
            grade: i64::from(c.grade),
            language: c.language,
            battery: c.battery,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
        };
        let created = self.app.create_cohort(&caller, input, &request_id).await?;
        Ok(Response::new(cohort(created)))
    }

    async fn get_cohort(&self, request: Request<GetCohortRequest>) -> Result<Response<Cohort>, Status> {
        let caller = caller(&request)?;
        let GetCohortRequest { name } = request.into_inner();
        Ok(Response::new(cohort(self.app.cohort(&caller, &name).await?)))
    }

    async fn list_cohorts(
        &self,
        request: Request<ListCohortsRequest>,
    ) -> Result<Response<ListCohortsResponse>, Status> {
        let caller = caller(&request)?;
        let ListCohortsRequest {
            page_size,
            page_token,
        } = request.into_inner();
        let found = self
            .app
            .list_cohorts(&caller, page(page_size, page_token)?)
            .await?;
        Ok(Response::new(ListCohortsResponse {
            cohorts: found.items.into_iter().map(cohort).collect(),
            next_page_token: found.next.unwrap_or_default(),
        }))
    }

    async fn import_roster(
        &self,
        request: Request<ImportRosterRequest>,
    ) -> Result<Response<ImportRosterResponse>, Status> {
        let caller = caller(&request)?;
        let ImportRosterRequest { cohort, csv } = request.into_inner();
        let done = self.app.import_roster(&caller, &cohort, &csv).await?;
        let c = done.counts;
        Ok(Response::new(ImportRosterResponse {
            rows: done.rows,
            children_created: c.children_created,
            children_updated: c.children_updated,
            members_added: c.members_added,
            members_moved: c.members_moved,
            unchanged: c.unchanged,
        }))
    }

    async fn export_roster(
        &self,
        request: Request<ExportRosterRequest>,
    ) -> Result<Response<ExportRosterResponse>, Status> {
        let caller = caller(&request)?;
        let ExportRosterRequest { cohort } = request.into_inner();
        let (_, members) = self.app.roster(&caller, &cohort).await?;
        Ok(Response::new(ExportRosterResponse {
            csv: roster_csv(&members),
        }))
    }

    async fn issue_tickets(
        &self,
        request: Request<IssueTicketsRequest>,
    ) -> Result<Response<IssueTicketsResponse>, Status> {
        let caller = caller(&request)?;
        let IssueTicketsRequest { cohort, class } = request.into_inner();
        let (_, issued) = self.app.issue_tickets(&caller, &cohort, &class).await?;
        let text = |p: &Option<Personal>| p.as_ref().map_or_else(String::new, |p| p.as_str().to_owned());
        Ok(Response::new(IssueTicketsResponse {
            tickets: issued
                .iter()
                .map(|t| IssuedTicket {
                    child_code: t.code.clone(),
                    class: t.class.clone(),
                    given_name: text(&t.given_name),
                    family_name: text(&t.family_name),
                    ticket: t.ticket.clone(),
                })
                .collect(),
        }))
    }

    async fn get_cohort_results(
        &self,
        request: Request<GetCohortResultsRequest>,
    ) -> Result<Response<CohortResults>, Status> {
        let caller = caller(&request)?;
        let GetCohortResultsRequest { cohort: name, class } = request.into_inner();
        let progress = self.app.cohort_progress(&caller, &name, &class).await?;
        let csv = cohort_results_csv(&progress);
        let norms = self.app.registry().get(&progress.cohort.battery_id);
        let children = progress
            .children
            .iter()
            .map(|c| {
                let r = c.result.as_ref();
                ScreeningResult {
                    child_code: c.member.code.clone(),
                    class: c.member.class.clone(),
                    status: c.status.as_str().to_owned(),
                    answered: u32::try_from(c.answered).unwrap_or(u32::MAX),
                    idle: c.idle,
                    session: c
                        .session_id
                        .as_ref()
                        .map(|s| format!("sessions/{s}"))
                        .unwrap_or_default(),
                    composite: r.map(|r| r.composite.clone()).unwrap_or_default(),
                    index: r.map_or(0, |r| r.index),
                    ci: r.map(|r| Interval {
                        low: r.ci_low,
                        high: r.ci_high,
                    }),
                    national_percentile: r.map_or(0.0, |r| r.percentile),
                    local_percentile: r.map_or(0.0, |r| r.local_percentile),
                    classification: r.map(|r| r.classification.clone()).unwrap_or_default(),
                }
            })
            .collect();
        Ok(Response::new(CohortResults {
            norm_set: norms.map(|n| NormSetRef {
                battery: n.id.battery.clone(),
                version: n.id.version.clone(),
                hash: n.id.hash.clone(),
                notice: n.id.notice.clone().unwrap_or_default(),
            }),
            cohort: Some(cohort(progress.cohort)),
            children,
            csv,
        }))
    }
}
