//! The `skiff` binary: everything lives in the library; this only hands over the arguments.

fn main() {
    let code = skiff::cli::main_with_args(std::env::args_os().collect());
    std::process::exit(code);
}
