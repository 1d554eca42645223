//! `Assessment`: children, sessions, item responses and results — conversion between
//! messages and the application layer's operations, and nothing else (authorization, audit,
//! idempotency, limits and the administration rules are `crate::app`'s).

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::authenticate::caller;
use super::pb;
use super::pb::assessment_server::Assessment;
use super::requests::page;
use super::{convert, records};
use crate::app::{App, ChildInput, ResponseInput, Transition};

/// The service.
pub struct AssessmentService {
    app: Arc<App>,
}

impl AssessmentService {
    /// The service of `app`.
    pub fn new(app: Arc<App>) -> Self {
        AssessmentService { app }
    }

    async fn change_state(
        &self,
        request: Request<pb::SessionActionRequest>,
        transition: Transition,
    ) -> Result<Response<pb::Session>, Status> {
        let caller = caller(&request)?;
        let pb::SessionActionRequest { name, request_id } = request.into_inner();
        let view = self
            .app
            .change_session_state(&caller, &name, transition, &request_id)
            .await?;
        Ok(Response::new(records::session_view(&view)))
    }
}

#[tonic::async_trait]
impl Assessment for AssessmentService {
    async fn create_child(
        &self,
        request: Request<pb::CreateChildRequest>,
    ) -> Result<Response<pb::Child>, Status> {
        let caller = caller(&request)?;
        let pb::CreateChildRequest { child, request_id } = request.into_inner();
        let pb::Child {
            name: _,
            code,
            birth_date,
            sex,
            test_language,
            centre,
            given_name,
            family_name,
            notes,
            create_time: _,
        } = child.ok_or_else(|| super::status::invalid_argument("child", "required"))?;
        let input = ChildInput {
            code,
            birth_date,
            sex,
            test_language,
            centre,
            given_name,
            family_name,
            notes,
        };
        let child = self.app.create_child(&caller, input, &request_id).await?;
        Ok(Response::new(records::child(&child)))
    }

    async fn get_child(&self, request: Request<pb::GetChildRequest>) -> Result<Response<pb::Child>, Status> {
        let caller = caller(&request)?;
        let pb::GetChildRequest { name } = request.into_inner();
        let child = self.app.get_child(&caller, &name).await?;
        Ok(Response::new(records::child(&child)))
    }

    async fn list_children(
        &self,
        request: Request<pb::ListChildrenRequest>,
    ) -> Result<Response<pb::ListChildrenResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListChildrenRequest {
            page_size,
            page_token,
            code_prefix,
        } = request.into_inner();
        let found = self
            .app
            .list_children(&caller, &code_prefix, page(page_size, page_token)?)
            .await?;
        Ok(Response::new(pb::ListChildrenResponse {
            children: found.items.iter().map(records::child).collect(),
            next_page_token: found.next.unwrap_or_default(),
        }))
    }

    async fn start_session(
        &self,
        request: Request<pb::StartSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let caller = caller(&request)?;
        let pb::StartSessionRequest {
            child,
            battery,
            test_date,
            request_id,
        } = request.into_inner();
        let view = self
            .app
            .start_session(&caller, &child, &battery, &test_date, &request_id)
            .await?;
        Ok(Response::new(records::session_view(&view)))
    }

    async fn get_session(
        &self,
        request: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let caller = caller(&request)?;
        let pb::GetSessionRequest { name } = request.into_inner();
        let view = self.app.get_session(&caller, &name).await?;
        Ok(Response::new(records::session_view(&view)))
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListSessionsRequest {
            page_size,
            page_token,
            child,
        } = request.into_inner();
        let child = (!child.is_empty()).then_some(child.as_str());
        let found = self
            .app
            .list_sessions(&caller, child, page(page_size, page_token)?)
            .await?;
        let registry = self.app.registry();
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: found
                .items
                .iter()
                .map(|s| records::session(s, registry.get(&s.battery_id).map(|n| n.as_ref())))
                .collect(),
            next_page_token: found.next.unwrap_or_default(),
        }))
    }

    async fn pause_session(
        &self,
        request: Request<pb::SessionActionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.change_state(request, Transition::Pause).await
    }

    async fn resume_session(
        &self,
        request: Request<pb::SessionActionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.change_state(request, Transition::Resume).await
    }

    async fn finish_session(
        &self,
        request: Request<pb::SessionActionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.change_state(request, Transition::Finish).await
    }

    async fn get_next_item(
        &self,
        request: Request<pb::GetNextItemRequest>,
    ) -> Result<Response<pb::SubtestState>, Status> {
        let caller = caller(&request)?;
        let pb::GetNextItemRequest { session, subtest } = request.into_inner();
        let view = self.app.next_item(&caller, &session, &subtest).await?;
        Ok(Response::new(convert::subtest_state(&view.state)))
    }

    async fn record_response(
        &self,
        request: Request<pb::RecordResponseRequest>,
    ) -> Result<Response<pb::SubtestState>, Status> {
        let caller = caller(&request)?;
        let pb::RecordResponseRequest {
            session,
            subtest,
            item,
            score,
            override_reason,
            request_id,
        } = request.into_inner();
        let input = ResponseInput {
            item,
            score,
            override_reason,
        };
        let view = self
            .app
            .record_response(&caller, &session, &subtest, input, &request_id)
            .await?;
        Ok(Response::new(convert::subtest_state(&view.state)))
    }

    async fn get_results(
        &self,
        request: Request<pb::GetResultsRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let caller = caller(&request)?;
        let pb::GetResultsRequest { session } = request.into_inner();
        let results = self.app.results(&caller, &session).await?;
        Ok(Response::new(results_message(&results)))
    }
}

/// A session's results as a message, de-identified where the application says so.
fn results_message(results: &crate::app::Results) -> pb::Profile {
    if results.deidentified {
        convert::deidentified_profile(&results.profile)
    } else {
        convert::profile(&results.profile)
    }
}
