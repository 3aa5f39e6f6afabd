//! `ward serve`: the HTTP server, its background jobs (key reloads, checkpoints, key
//! epochs), graceful shutdown.

use crate::app;
use crate::config::Config;
use anyhow::{Context, Result};
use tokio::net::TcpListener;

pub async fn serve(cfg: Config) -> Result<()> {
    crate::startup::check_integrity(&cfg).await?;
    let vault = app::open_vault(&cfg).await?;
    app::note_policy_file(&vault, &cfg);
    if let Some(warning) = vault.policies().in_force().placeholder_warning() {
        tracing::warn!("{warning}");
    }
    // The signal handlers are in place before Ward says it listens: a supervisor that stops it
    // at once gets a clean shutdown, never the default action that kills the process.
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    println!("Ward listening on http://{addr} ({})", cfg.database_description());
    tracing::info!(url = %format!("http://{addr}"), database = %cfg.database_description(), "Ward is listening");

    // Background jobs: key reloads, periodic checkpoints, key epochs (see `jobs`), and the
    // policy versions published by other processes (`policy_reload`).
    let mut runner = crate::jobs::runner(&cfg, &vault, crate::bench_knobs::clock())?;
    crate::policy_reload::add(&mut runner, &vault)?;
    crate::idempotency_prune::add(&mut runner, &vault)?;
    let jobs = runner.spawn(crate::jobs::POLL);

    let router = ward_api::router(vault.clone(), ward_api::ApiConfig::default());
    // The key epoch's start, in the metrics from the start (the reload job keeps it current).
    if let Err(e) = crate::epochs::Epochs::new(&cfg, &vault).reload().await {
        tracing::error!(error = %format!("{e:#}"), "key files not reloaded; the keys in force stay");
    }
    let limits = crate::http::Limits {
        header_read_timeout: cfg.header_read_timeout,
        body_read_timeout: cfg.body_read_timeout,
        max_connections: cfg.max_connections,
    };
    crate::http::serve(listener, router, limits, shutdown).await;
    // The job in progress, if any, ends first; the leases are released for other processes.
    jobs.stop().await;
    // Whatever happened to the listener, flush acknowledged work and sign the head.
    vault.shutdown().await?;
    println!("Ward stopped; journal checkpoint signed");
    Ok(())
}

/// Registers SIGINT and SIGTERM handlers now, and returns the future that resolves on either.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down");
    })
}
