//! `ward serve`: the HTTP server, periodic checkpoints, graceful shutdown.

use crate::app;
use crate::config::Config;
use anyhow::{Context, Result};
use std::time::Duration;
use tokio::net::TcpListener;

pub async fn serve(cfg: Config) -> Result<()> {
    let vault = app::open_vault(&cfg).await?;
    let (keys_dir, bits) = (cfg.keys_dir.clone(), cfg.blind_index_bits);
    vault.keys().set_reloader(Box::new(move || {
        crate::keyfiles::load(&keys_dir, bits)
            .map(|k| k.keyring)
            .map_err(|e| format!("{e:#}"))
    }));
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    println!("Ward listening on http://{addr} ({})", cfg.database_description());
    tracing::info!(url = %format!("http://{addr}"), database = %cfg.database_description(), "Ward is listening");

    let ticker_vault = vault.clone();
    let every = Duration::from_secs(cfg.checkpoint_interval_secs);
    let ticker = tokio::spawn(async move {
        let mut t = tokio::time::interval(every);
        t.tick().await;
        loop {
            t.tick().await;
            if let Err(e) = ticker_vault.keys().reload() {
                tracing::warn!(error = %e, "could not reload the key files");
            }
            match ticker_vault.journal().checkpoint().await {
                Ok(Some(cp)) => tracing::info!(seq = cp.seq, "journal checkpoint signed"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not sign a journal checkpoint"),
            }
        }
    });

    let router = ward_api::router(vault.clone(), ward_api::ApiConfig::default());
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    ticker.abort();
    // Whatever happened to the listener, flush acknowledged work and sign the head.
    vault.shutdown().await?;
    served.context("serving HTTP")?;
    println!("Ward stopped; journal checkpoint signed");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
