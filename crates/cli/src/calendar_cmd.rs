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
    /// Check a year's file (the format of data/calendar/) before it goes into the calendar
    /// folder: print its year, days off, make-up workdays and working days, or why it is refused.
    Check { file: std::path::PathBuf },
}

pub fn run(command: CalendarCommand) -> ExitCode {
    if let CalendarCommand::Check { file } = &command {
        return check(file);
    }
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
        CalendarCommand::Check { .. } => return ExitCode::SUCCESS,
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

fn check(file: &std::path::Path) -> ExitCode {
    let data = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))
        .and_then(|text| {
            tongban_domain::calendar::YearData::parse_toml(&text)
                .map_err(|e| format!("error [{}]: {e}", e.code()))
        });
    match data {
        Ok(data) => {
            let days_off: usize = data
                .holidays()
                .iter()
                .map(|h| h.to().since(h.from()).map_or(0, |span| span.get_days()) as usize + 1)
                .sum();
            println!(
                "{}: {} holiday breaks ({days_off} days off), {} make-up workdays, {} working days ({})",
                data.year(),
                data.holidays().len(),
                data.makeup_workdays().len(),
                data.working_days(),
                data.source()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
