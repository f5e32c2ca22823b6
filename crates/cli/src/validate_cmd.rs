//! `tongban validate …`: identifier checks for scripts (exit 0 valid, 1 invalid).

use std::process::ExitCode;

use clap::Subcommand;
use tongban_domain::ids::{CreditCode, IdError, IdNumber, LicenceId};

#[derive(Debug, Subcommand)]
pub enum ValidateCommand {
    /// A resident ID number (GB 11643).
    IdNumber { value: String },
    /// A unified social credit code (GB 32100).
    CreditCode { value: String },
    /// An electronic-licence identifier (GB/T 36903, with its MOD 37,36 check character).
    LicenceId { value: String },
}

pub fn run(command: ValidateCommand) -> ExitCode {
    let result: Result<(), IdError> = match &command {
        ValidateCommand::IdNumber { value } => IdNumber::parse(value).map(|_| ()),
        ValidateCommand::CreditCode { value } => CreditCode::parse(value).map(|_| ()),
        ValidateCommand::LicenceId { value } => LicenceId::parse(value).map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("invalid [{}]: {error}", error.code());
            ExitCode::FAILURE
        }
    }
}
