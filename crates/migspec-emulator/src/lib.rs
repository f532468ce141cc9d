//! Local emulator of the Tencent Cloud DTS and Huawei Cloud OMS v2 APIs (work in progress).

pub mod cli {
    //! Arguments and entry point of `migspec emulator`.

    /// Arguments of `migspec emulator`.
    #[derive(Debug, clap::Args)]
    pub struct Args {}

    /// Runs the emulator until SIGINT/SIGTERM.
    ///
    /// # Errors
    /// Never, for now.
    pub fn run(_args: Args) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err("the emulator is not built yet".into())
    }
}
