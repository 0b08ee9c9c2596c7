//! A Xet content-addressed store on loopback for `bench/xet.sh`: xet-client's simulation
//! server (a dev-dependency) storing under DATA_DIR, as the test Hub's `xet` switch expects.
//! `xet_cas_server DATA_DIR PORT` prints `listening http://127.0.0.1:PORT` once bound (PORT
//! must be a real port: the server reports the one it was given).
//! (The test suite starts the same server in its own process.)

use xet_client::cas_client::{LocalServer, LocalServerConfig};
use xet_runtime::core::XetContext;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data_directory = args
        .next()
        .unwrap_or_else(|| "./local_cas_data".into())
        .into();
    let port: u16 = args.next().unwrap_or_else(|| "8080".into()).parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let context = XetContext::default()?;
        let config = LocalServerConfig {
            data_directory,
            host: "127.0.0.1".into(),
            port,
            in_memory: false,
        };
        let server = LocalServer::new(context, config).await?;
        println!("listening http://{}", server.addr());
        server.run().await?;
        Ok(())
    })
}
