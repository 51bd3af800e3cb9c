use clap::Parser;

fn main() -> std::process::ExitCode {
    krawlr::cli::main(krawlr::cli::Cli::parse())
}
