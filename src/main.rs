//! The fsx-migrate binary: everything lives in the library; see `fsx_migrate::cli`.

fn main() -> std::process::ExitCode {
    fsx_migrate::cli::main()
}
