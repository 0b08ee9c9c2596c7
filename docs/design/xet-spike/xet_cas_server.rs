//! Issue 25 spike: xet-client's `local_cas_server` as an example of ours, so the Python test Hub
//! can start a real HTTP CAS without `cargo install`: `xet_cas_server DATA_DIR PORT`.
//! Prints `listening http://127.0.0.1:PORT` once bound.

use xet_client::cas_client::{LocalServer, LocalServerConfig};
use xet_runtime::core::XetContext;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data_directory = args.next().unwrap_or_else(|| "./local_cas_data".into()).into();
    let port: u16 = args.next().unwrap_or_else(|| "8080".into()).parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let ctx = XetContext::default()?;
        let config = LocalServerConfig { data_directory, host: "127.0.0.1".into(), port, in_memory: false };
        let server = LocalServer::new(ctx, config).await?;
        println!("listening http://{}", server.addr());
        server.run().await?;
        Ok(())
    })
}
