//! The stackward command: parses the command line and hands it to `stackward::cli`.

use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    stackward::cli::run(stackward::cli::Cli::parse()).await
}
