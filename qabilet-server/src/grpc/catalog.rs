//! `Catalog`: the batteries the server loaded, with their subtests, items, composites and
//! norm sets (conversion only; the operations are the application layer's).

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::authenticate::caller;
use super::convert;
use super::pb::catalog_server::Catalog;
use super::pb::{Battery, GetBatteryRequest, ListBatteriesRequest, ListBatteriesResponse};
use super::requests::page_size;
use crate::app::App;

/// The service.
#[derive(Clone)]
pub struct CatalogService {
    app: Arc<App>,
}

impl CatalogService {
    /// The catalog of `app`.
    pub fn new(app: Arc<App>) -> Self {
        CatalogService { app }
    }
}

#[tonic::async_trait]
impl Catalog for CatalogService {
    async fn list_batteries(
        &self,
        request: Request<ListBatteriesRequest>,
    ) -> Result<Response<ListBatteriesResponse>, Status> {
        let caller = caller(&request)?;
        let ListBatteriesRequest {
            page_size: size,
            page_token,
        } = request.into_inner();
        let page = self
            .app
            .list_batteries(&caller, page_size(size)? as usize, &page_token)
            .await?;
        Ok(Response::new(ListBatteriesResponse {
            batteries: page.batteries.iter().map(|n| convert::battery(n)).collect(),
            next_page_token: page.next.unwrap_or_default(),
        }))
    }

    async fn get_battery(&self, request: Request<GetBatteryRequest>) -> Result<Response<Battery>, Status> {
        let caller = caller(&request)?;
        let GetBatteryRequest { name } = request.into_inner();
        let norms = self.app.get_battery(&caller, &name).await?;
        Ok(Response::new(convert::battery(&norms)))
    }
}
