//! `qabilet serve`: the gRPC service on its embedded defaults — the batteries of the norms
//! folder, the guidance tables of reports (`norms/guidance`), an SQLite database
//! (`qabilet.db`), health and reflection — and the psychologist's console (HTML over HTTP on
//! `--http-addr`, calling the same service objects), with structured logs, the limits of
//! [`limits`] on both listeners, and a graceful shutdown of both on SIGTERM or Ctrl-C
//! (requests in flight finish; no new ones are accepted).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tonic::transport::ServerTlsConfig;

use crate::app::{App, AppParts, BatchLimits, Caller};
use crate::error::CliError;
use crate::grpc::FILE_DESCRIPTOR_SET;
use crate::grpc::assessment::AssessmentService;
use crate::grpc::authenticate::Authenticated;
use crate::grpc::catalog::CatalogService;
use crate::grpc::pb::assessment_server::AssessmentServer;
use crate::grpc::pb::catalog_server::CatalogServer;
use crate::grpc::pb::referrals_server::ReferralsServer;
use crate::grpc::pb::reports_server::ReportsServer;
use crate::grpc::pb::scoring_server::ScoringServer;
use crate::grpc::pb::screening_server::ScreeningServer;
use crate::grpc::referrals::ReferralsService;
use crate::grpc::registry::Registry;
use crate::grpc::reports::ReportsService;
use crate::grpc::scoring::ScoringService;
use crate::grpc::screening::ScreeningService;
use crate::guidance_dir::Guidance;

mod conn;
mod console;
pub mod limits;
mod settings;

use settings::{Settings, TlsFiles};

/// Largest request message accepted, bytes (a 10,000-child batch is about 2 MB).
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// Arguments of `qabilet serve`. Each setting comes from, in order of precedence, its flag,
/// its environment variable, the `--config` file, or its default.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Settings file (TOML) with any of the keys addr, http_addr, norms, guidance, db, iin_key_file, log_format,
    /// tls_cert and tls_key; flags and environment variables override it, relative paths in it are relative
    /// to the file's folder.
    #[arg(long, value_name = "FILE", env = "QABILET_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address of the gRPC service [default: 127.0.0.1:50051] (loopback; port 0 picks a free
    /// port, printed on stderr).
    #[arg(long, value_name = "HOST:PORT", env = "QABILET_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Address of the psychologist's console (HTTP) [default: 127.0.0.1:8080] (port 0 picks a
    /// free port, printed on stderr). Plain HTTP even when the gRPC service speaks TLS: keep it
    /// on loopback or put a TLS proxy in front.
    #[arg(long, value_name = "HOST:PORT", env = "QABILET_HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// Folder of battery folders (or one battery folder) to serve [default: norms].
    #[arg(long, value_name = "DIR", env = "QABILET_NORMS")]
    pub norms: Option<PathBuf>,
    /// Guidance tables of consultation reports [default: norms/guidance]. Without the folder
    /// the server runs, and the Reports service answers FAILED_PRECONDITION.
    #[arg(long, value_name = "DIR", env = "QABILET_GUIDANCE")]
    pub guidance: Option<PathBuf>,
    /// Database [default: sqlite://qabilet.db]: `sqlite://FILE` (embedded, created if missing)
    /// or `postgres://…` (several replicas may share one). Migrations run on start.
    #[arg(long, value_name = "URL", env = "QABILET_DB")]
    pub db: Option<String>,
    /// The secret key of IIN hashes (64 hex digits) [default: qabilet-iin.key], created when
    /// missing; every server of one database needs the same file (and `qabilet roster` too).
    #[arg(long, value_name = "FILE", env = "QABILET_IIN_KEY_FILE")]
    pub iin_key_file: Option<PathBuf>,
    /// Log format on stderr [default: text].
    #[arg(long, value_enum, env = "QABILET_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// TLS: the server's certificate chain (PEM); with --tls-key, the service speaks only TLS.
    #[arg(long, value_name = "PEM", env = "QABILET_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS: the private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", env = "QABILET_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Runs the service until SIGTERM or Ctrl-C.
pub fn run(args: &ServeArgs) -> Result<(), CliError> {
    let settings = Settings::resolve(args)?;
    init_logs(settings.log_format);
    let registry = Arc::new(Registry::load(&settings.norms)?);
    let guidance = Guidance::load(&settings.guidance)?;
    if let Guidance::Missing(why) = &guidance {
        tracing::warn!("{why}");
    }
    let tls = settings.tls.as_ref().map(TlsFiles::load).transpose()?;
    let iin_key = crate::cli::iin_key::load_or_create(&settings.iin_key_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let store = crate::store::open_store(&settings.db)
            .await
            .map_err(|e| CliError::Usage(format!("--db: {e}")))?;
        let app = Arc::new(App::new(AppParts {
            registry,
            guidance,
            store: store.clone(),
            token_cache: crate::auth::CACHE_TTL,
            batches: BatchLimits::from_env(),
            iin_key: Some(Arc::new(iin_key)),
        }));
        if let Some(secret) = app
            .bootstrap_admin(&Caller::operator())
            .await
            .map_err(|e| CliError::Usage(format!("--db: {e}")))?
        {
            // Shown once: the store keeps only its hash.
            eprintln!("qabilet: the database had no tokens; created an admin token (shown only now):");
            eprintln!("qabilet: admin token {secret}");
        }
        let result = serve(settings.addr, settings.http_addr, tls, app).await;
        store.close().await;
        result
    })
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QABILET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second initialisation (tests running serve twice in one process) is harmless.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn serve(
    addr: SocketAddr,
    http_addr: SocketAddr,
    tls: Option<ServerTlsConfig>,
    app: Arc<App>,
) -> Result<(), CliError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::Usage(format!("{addr}: {e}")))?;
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<CatalogServer<CatalogService>>().await;
    health.set_serving::<ScoringServer<ScoringService>>().await;
    health.set_serving::<AssessmentServer<AssessmentService>>().await;
    health.set_serving::<ScreeningServer<ScreeningService>>().await;
    health.set_serving::<ReferralsServer<ReferralsService>>().await;
    match app.guidance() {
        Guidance::Loaded(_) => health.set_serving::<ReportsServer<ReportsService>>().await,
        Guidance::Missing(_) => health.set_not_serving::<ReportsServer<ReportsService>>().await,
    }
    // Reflection in both protocol versions: v1, and v1alpha for older tools.
    let reflection_builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection = reflection_builder()
        .build_v1()
        .map_err(|e| CliError::Usage(format!("reflection: {e}")))?;
    let reflection_alpha = reflection_builder()
        .build_v1alpha()
        .map_err(|e| CliError::Usage(format!("reflection: {e}")))?;
    let batteries: Vec<String> = app
        .registry()
        .iter()
        .map(|(id, n)| format!("{id} ({})", n.id.hash))
        .collect();
    // One shutdown signal for both servers.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let console = crate::console::Console {
        app: app.clone(),
        ui: Arc::new(
            crate::console::i18n::Ui::load().map_err(|e| CliError::Usage(format!("console texts: {e}")))?,
        ),
    };
    let http = tokio::net::TcpListener::bind(http_addr)
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {http_addr} (--http-addr): {e}")))?;
    let http_local = http
        .local_addr()
        .map_err(|e| CliError::Usage(format!("{http_addr}: {e}")))?;
    let mut http_stopped = stopped.clone();
    let console_task = tokio::spawn(console::serve(
        http,
        crate::console::router(Arc::new(console)),
        async move {
            let _ = http_stopped.wait_for(|s| *s).await;
        },
    ));
    tokio::spawn(async move {
        shutdown().await;
        let _ = stop.send(true);
    });
    // Ended console sessions are deleted as they are found; idle ones nobody returns to, here.
    let purging = app.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = purging.purge_console_sessions().await {
                tracing::warn!(error = %e, "purging console sessions failed");
            }
        }
    });
    tracing::info!(%http_local, "qabilet serving the console");
    // Printed before the gRPC line, which is the last one scripts and tests wait for.
    eprintln!("qabilet: serving the console on http://{http_local}");
    let scheme = if tls.is_some() { "TLS" } else { "plaintext" };
    tracing::info!(%local, batteries = %batteries.join(", "), transport = scheme, "qabilet serving gRPC");
    // The line scripts and tests wait for.
    eprintln!("qabilet: serving gRPC on {local} ({scheme})");
    let mut builder = limits::grpc_server();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls.timeout(limits::GRPC_HANDSHAKE_TIMEOUT))
            .map_err(|e| CliError::Usage(format!("TLS: {e}")))?;
    }
    builder
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(Authenticated::new(
            app.clone(),
            CatalogServer::new(CatalogService::new(app.clone())).max_decoding_message_size(MAX_REQUEST_BYTES),
        ))
        .add_service(Authenticated::new(
            app.clone(),
            ScoringServer::new(ScoringService::new(app.clone())).max_decoding_message_size(MAX_REQUEST_BYTES),
        ))
        .add_service(Authenticated::new(
            app.clone(),
            AssessmentServer::new(AssessmentService::new(app.clone()))
                .max_decoding_message_size(MAX_REQUEST_BYTES),
        ))
        .add_service(Authenticated::new(
            app.clone(),
            ScreeningServer::new(ScreeningService::new(app.clone()))
                .max_decoding_message_size(MAX_REQUEST_BYTES),
        ))
        .add_service(Authenticated::new(
            app.clone(),
            ReferralsServer::new(ReferralsService::new(app.clone()))
                .max_decoding_message_size(MAX_REQUEST_BYTES),
        ))
        .add_service(Authenticated::new(
            app.clone(),
            ReportsServer::new(ReportsService::new(app.clone())).max_decoding_message_size(MAX_REQUEST_BYTES),
        ))
        .serve_with_incoming_shutdown(
            conn::Incoming::new(
                listener,
                limits::GRPC_MAX_CONNECTIONS,
                limits::GRPC_DEADLINES,
                limits::TCP_KEEPALIVE,
            ),
            async move {
                let mut stopped = stopped;
                let _ = stopped.wait_for(|s| *s).await;
            },
        )
        .await
        .map_err(|e| CliError::Usage(format!("gRPC server: {e}")))?;
    console_task
        .await
        .map_err(|e| CliError::Usage(format!("console server: {e}")))?;
    tracing::info!("qabilet stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
