//! `Catalog`: the batteries the server loaded, with their subtests, items, composites and
//! norm sets.

use std::sync::Arc;

use qabilet_core::NormSet;
use tonic::{Request, Response, Status};

use super::pb::catalog_server::Catalog;
use super::pb::{Battery, GetBatteryRequest, ListBatteriesRequest, ListBatteriesResponse};
use super::registry::{Registry, battery_id};
use super::{convert, status};
use crate::auth::Authenticator;
use crate::auth::policy::{self, Action};

/// Default and largest page sizes of list calls.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page size accepted (larger requests are served this many).
pub const MAX_PAGE_SIZE: usize = 500;

/// The service.
#[derive(Clone)]
pub struct CatalogService {
    registry: Arc<Registry>,
    auth: Arc<Authenticator>,
}

impl CatalogService {
    /// A catalog of `registry`, for callers `auth` accepts.
    pub fn new(registry: Arc<Registry>, auth: Arc<Authenticator>) -> Self {
        CatalogService { registry, auth }
    }

    /// The loaded norm set of battery `id`, for a caller inside the server that needs its
    /// definitions (the console's charts are drawn on the battery's scales).
    pub fn loaded(&self, id: &str) -> Option<Arc<NormSet>> {
        self.registry.get(id).cloned()
    }

    async fn check<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let p = self.auth.authenticate(request.metadata()).await?;
        if policy::allowed(&p, Action::ReadCatalog, None) {
            Ok(())
        } else {
            Err(Status::permission_denied("this token may not read the catalog"))
        }
    }
}

/// The page size a request asks for: 0 → the default; negative → an error.
pub fn page_size(requested: i32) -> Result<usize, Status> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err(status::invalid_argument("page_size", "must not be negative")),
        n => Ok(usize::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE)),
    }
}

#[tonic::async_trait]
impl Catalog for CatalogService {
    async fn list_batteries(
        &self,
        request: Request<ListBatteriesRequest>,
    ) -> Result<Response<ListBatteriesResponse>, Status> {
        self.check(&request).await?;
        let ListBatteriesRequest {
            page_size: size,
            page_token,
        } = request.into_inner();
        let size = page_size(size)?;
        // The token is the last battery id of the previous page.
        if !page_token.is_empty() && self.registry.get(&page_token).is_none() {
            return Err(status::invalid_argument(
                "page_token",
                "not a token this server issued",
            ));
        }
        let mut batteries: Vec<Battery> = self
            .registry
            .iter()
            .filter(|(id, _)| page_token.is_empty() || id.as_str() > page_token.as_str())
            .take(size + 1)
            .map(|(_, norms)| convert::battery(norms))
            .collect();
        let next_page_token = if batteries.len() > size {
            batteries.truncate(size);
            batteries.last().map(|b| b.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListBatteriesResponse {
            batteries,
            next_page_token,
        }))
    }

    async fn get_battery(&self, request: Request<GetBatteryRequest>) -> Result<Response<Battery>, Status> {
        self.check(&request).await?;
        let name = request.into_inner().name;
        let id =
            battery_id(&name).ok_or_else(|| status::invalid_argument("name", "must be batteries/{id}"))?;
        let norms = self
            .registry
            .get(id)
            .ok_or_else(|| status::not_found("battery", &name))?;
        Ok(Response::new(convert::battery(norms)))
    }
}
