use clap::Parser;
use server::{admin, config::Config, serve};
use std::process::ExitCode;

fn main() -> ExitCode {
    server::memory::return_large_blocks();
    let config = Config::parse();
    // A one-off command prints its answer alone; warnings still show.
    let log = if config.command.is_some() {
        "warn"
    } else {
        &config.log
    };
    server::telemetry::init(log);
    // Unoptimised builds (the development loop) render pages with deep stacks.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 << 20)
        .build()
        .expect("a runtime");
    let done = match &config.command {
        Some(command) => runtime.block_on(admin::run(&config, command)),
        None => runtime.block_on(serve::run(config)),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
