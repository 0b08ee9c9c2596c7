//! Issue 25 spike (not for main): upload through hf-xet's blocking session API to a real HTTP
//! CAS on loopback (xet-client's `simulation` feature, `LocalTestServerBuilder`), then read
//! back what the CAS reconstructs.
//!
//! 1. an 8 MiB pseudo-random file → file hash, size, SHA-256 (the shard's metadata extension)
//!    and the dedup metrics of the commit;
//! 2. the same file again → nothing new should travel;
//! 3. the file with 100 bytes inserted in the middle → how many bytes travel; then, from a
//!    fresh session with an empty cache (a later push), another edit and the base again;
//! 4. a 64 MiB file whose commit is aborted from another thread 150 ms in → how fast
//!    `commit_blocking` returns and with which error (the Ctrl-C path).
//!
//! Every upload is read back through the CAS (`DirectAccessClient::get_file_data`) and compared
//! byte for byte, and its SHA-256 is checked against sha2's.
//!
//! `cargo run --example xet_probe`

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use sha2::{Digest, Sha256};
use xet::xet_session::{Sha256Policy, XetConfig, XetSession, XetSessionBuilder};
use xet_client::cas_client::{DirectAccessClient, LocalTestServer, LocalTestServerBuilder};
use xet_core_structures::merklehash::MerkleHash;

const MIB: usize = 1024 * 1024;

fn main() -> Result<()> {
    // reqwest was built with `rustls-no-provider`: it panics at client build without this.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let server: LocalTestServer = rt.block_on(LocalTestServerBuilder::new().with_ephemeral_disk().start());
    let endpoint = server.http_endpoint().to_string();
    println!("CAS: {endpoint}");

    let dir = tempfile::tempdir()?;
    // No telemetry POSTs; the cache (staging, shard cache) under our own directory.
    let config = XetConfig::new().with_config("telemetry.enabled", false)?;
    let session = XetSessionBuilder::new_with_config(config)
        .with_cache_dir(dir.path().join("xet-cache"))
        .build()?;

    let mut rng = fastrand::Rng::with_seed(25);
    let mut base = vec![0u8; 8 * MIB];
    rng.fill(&mut base);
    let mut edited = base.clone();
    let mut insert = [0u8; 100];
    rng.fill(&mut insert);
    let mid = edited.len() / 2;
    edited.splice(mid..mid, insert);

    upload(&session, &endpoint, &rt, &server, dir.path(), "base.bin", &base)?;
    upload(&session, &endpoint, &rt, &server, dir.path(), "again.bin", &base)?;
    upload(&session, &endpoint, &rt, &server, dir.path(), "edited.bin", &edited)?;

    // A later push is a new process: a fresh session with an empty cache only has the CAS's
    // global dedup to find the old chunks.
    let fresh = XetSessionBuilder::new_with_config(XetConfig::new().with_config("telemetry.enabled", false)?)
        .with_cache_dir(dir.path().join("xet-cache-2"))
        .build()?;
    let mut edited2 = base.clone();
    edited2.splice(base.len() / 4..base.len() / 4, insert);
    upload(&fresh, &endpoint, &rt, &server, dir.path(), "edited-fresh-session.bin", &edited2)?;
    upload(&fresh, &endpoint, &rt, &server, dir.path(), "base-fresh-session.bin", &base)?;

    // Token endpoint: no CAS URL and no token given; the commit asks the refresh route
    // (`GET /api/datasets/{repo}/xet-write-token/{rev}` on the Hub) with the Hub token.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let refresh_url = token_endpoint(&endpoint, seen.clone())?;
    let mut hub_headers = xet::xet_session::HeaderMap::new();
    hub_headers.insert("authorization", "Bearer hf_hub_token".parse()?);
    let commit = fresh
        .new_upload_commit()?
        .with_token_refresh_url(&refresh_url, hub_headers)
        .build_blocking()?;
    let small = dir.path().join("small.bin");
    std::fs::write(&small, &base[..100_000])?;
    let meta = commit.upload_from_path_blocking(small, Sha256Policy::Compute)?.finalize_ingestion_blocking()?;
    commit.commit_blocking()?;
    println!("token endpoint: uploaded {:?} B; requests to it: {:?}", meta.xet_info.file_size, seen.lock().unwrap());

    // Cancellation: abort the commit from another thread while a 64 MiB file uploads.
    let mut big = vec![0u8; 64 * MIB];
    rng.fill(&mut big);
    let path = dir.path().join("big.bin");
    std::fs::write(&path, &big)?;
    let commit = session
        .new_upload_commit()?
        .with_endpoint(&endpoint)
        .with_token_info("cas-write-token", expiry())
        .build_blocking()?;
    let aborter = commit.clone();
    let t0 = Instant::now();
    let aborted_at = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        let t = Instant::now();
        let r = aborter.abort();
        (t, r.map_err(|e| e.to_string()))
    });
    let handle = commit.upload_from_path_blocking(path, Sha256Policy::Compute)?;
    let meta = handle.finalize_ingestion_blocking();
    let result = commit.commit_blocking();
    let (abort_t, abort_r) = aborted_at.join().unwrap();
    println!(
        "abort: abort()={abort_r:?}; finalize={}; commit={}; commit returned {:?} after abort() ({:?} after start)",
        meta.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| format!("Err({e})")),
        result.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| format!("Err({e})")),
        Instant::now().saturating_duration_since(abort_t),
        t0.elapsed()
    );
    Ok(())
}

fn expiry() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600
}

fn upload(
    session: &XetSession,
    endpoint: &str,
    rt: &tokio::runtime::Runtime,
    server: &LocalTestServer,
    dir: &Path,
    name: &str,
    data: &[u8],
) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, data)?;
    let t0 = Instant::now();
    let commit = session
        .new_upload_commit()?
        .with_endpoint(endpoint)
        .with_token_info("cas-write-token", expiry())
        .build_blocking()?;
    let handle = commit.upload_from_path_blocking(path, Sha256Policy::Compute)?;
    let meta = handle.finalize_ingestion_blocking()?;
    let report = commit.commit_blocking()?;
    let elapsed = t0.elapsed();
    let info = &meta.xet_info;
    let m = &report.dedup_metrics;
    println!(
        "{name}: {} B in {elapsed:.2?}\n  hash {}  size {:?}\n  sha256 {:?}\n  \
         commit dedup: total {} new {} deduped {} (global {}) | chunks {} new {} | \
         sent xorb {} + shard {} = {} B | progress transfer {} B",
        data.len(),
        info.hash,
        info.file_size,
        info.sha256,
        m.total_bytes,
        m.new_bytes,
        m.deduped_bytes,
        m.deduped_bytes_by_global_dedup,
        m.total_chunks,
        m.new_chunks,
        m.xorb_bytes_uploaded,
        m.shard_bytes_uploaded,
        m.total_bytes_uploaded,
        report.progress.total_transfer_bytes_completed,
    );
    let fm = &meta.dedup_metrics;
    println!("  file dedup: new {} deduped {} xorb sent {}", fm.new_bytes, fm.deduped_bytes, fm.xorb_bytes_uploaded);

    let sha: String = Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect();
    ensure!(info.sha256.as_deref() == Some(sha.as_str()), "sha256 {:?} != {sha}", info.sha256);
    let hash = MerkleHash::from_hex(&info.hash).context("file hash")?;
    let back = rt.block_on(server.get_file_data(&hash, None))?;
    ensure!(back.as_ref() == data, "the CAS reconstructs {} bytes that differ", back.len());
    println!("  CAS reconstruction: {} B, byte-identical; sha256 matches", back.len());
    Ok(())
}

/// A one-route Hub on loopback: answers every GET with a CAS token for `cas_url` and records
/// the request line and Authorization header it got.
fn token_endpoint(cas_url: &str, seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> Result<String> {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/api/datasets/o/n/xet-write-token/main", listener.local_addr()?);
    let cas_url = cas_url.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("authorization:") {
                    auth = line.trim().to_string();
                }
            }
            seen.lock().unwrap().push(format!("{} | {auth}", first.trim()));
            let body = format!(r#"{{"accessToken":"cas-token-from-hub","exp":{},"casUrl":"{cas_url}"}}"#, expiry());
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(url)
}
