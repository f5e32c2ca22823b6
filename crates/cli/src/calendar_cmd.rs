//! `tongban calendar …`: working-day arithmetic for scripts.

use std::process::ExitCode;

use clap::Subcommand;
use jiff::civil::Date;
use tongban_domain::calendar::Calendar;

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Print the date N working days after --from (the start day itself is not counted).
    AddWorkingDays {
        #[arg(long)]
        from: Date,
        #[arg(long)]
        days: u32,
    },
    /// Print `true` when DATE is a working day, `false` when not.
    IsWorkday { date: Date },
    /// Print the number of working days after FROM up to and including TO.
    Between {
        #[arg(long)]
        from: Date,
        #[arg(long)]
        to: Date,
    },
}

pub fn run(command: CalendarCommand) -> ExitCode {
    let calendar = match Calendar::official() {
        Ok(calendar) => calendar,
        Err(error) => {
            eprintln!("error [{}]: {error}", error.code());
            return ExitCode::from(2);
        }
    };
    let result = match command {
        CalendarCommand::AddWorkingDays { from, days } => {
            calendar.add_working_days(from, days).map(|d| d.to_string())
        }
        CalendarCommand::IsWorkday { date } => calendar.is_workday(date).map(|b| b.to_string()),
        CalendarCommand::Between { from, to } => calendar
            .working_days_between(from, to)
            .map(|n| n.to_string()),
    };
    match result {
        Ok(answer) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error [{}]: {error}", error.code());
            ExitCode::from(2)
        }
    }
}
